-- wrk script: files requests and writes "id token" lines, one file per thread,
-- until each thread has its share. Used once, before the status-read figure.
-- args: OUTPUT_PREFIX PER_THREAD
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local out, want, got, counter = nil, 0, 0, 0

function init(args)
  out = assert(io.open(args[1] .. "." .. tid, "w"))
  want = tonumber(args[2])
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local n = 900000000 + tid * 1000000 + counter
  local body = string.format(
    '{"type":"access","jurisdiction":"gdpr","subject":{"email":"status%d@example.com"}}', n)
  return wrk.format(nil, "/v1/requests", nil, body)
end

function response(status, headers, body)
  if status == 202 and got < want then
    local id = body:match('"id":"([0-9a-f-]+)"')
    local token = body:match('"status_token":"([A-Za-z0-9_-]+)"')
    if id and token then
      out:write(id, " ", token, "\n")
      got = got + 1
    end
  end
  if got >= want then
    out:flush()
    wrk.thread:stop()
  end
end
