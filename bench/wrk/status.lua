-- wrk script: GET /v1/requests/{id} with its bearer token, picking one of the
-- prepared requests at random each time. args: TABLE_FILE (a Lua file that
-- returns { {id, token}, ... }). The requests are formatted once, in init, so
-- that the load generator spends as little as it can per request (pgbench, on
-- the other side, sends prepared statements).
local reqs, n

function init(args)
  local list = dofile(args[1])
  reqs = {}
  for i, e in ipairs(list) do
    reqs[i] = wrk.format("GET", "/v1/requests/" .. e[1], {["Authorization"] = "Bearer " .. e[2]})
  end
  n = #reqs
  math.randomseed(os.time() + n + (tonumber(tostring(reqs):match("0x(%x+)") or "0", 16) % 100000))
end

function request()
  return reqs[math.random(n)]
end
