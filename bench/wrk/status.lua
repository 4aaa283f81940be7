-- wrk script: GET /v1/requests/{id} with its bearer token, picking one of the
-- prepared requests at random each time. args: TABLE_FILE (a Lua file that
-- returns { {id, token}, ... }).
local list

function init(args)
  list = dofile(args[1])
  math.randomseed(os.time() + (tonumber(tostring(list):match("0x(%x+)") or "0", 16) % 1000))
end

function request()
  local e = list[math.random(#list)]
  return wrk.format("GET", "/v1/requests/" .. e[1], {["Authorization"] = "Bearer " .. e[2]})
end
