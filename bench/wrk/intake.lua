-- wrk script: POST /v1/requests with a different (synthetic) identity each time.
-- Every thread gets its own number so identities never repeat across threads.
local counter = 1
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local types = {"access", "erasure", "portability", "opt_out"}

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local n = tid * 100000000 + counter
  local body = string.format(
    '{"type":"%s","jurisdiction":"gdpr","subject":{"email":"bench%d@example.com","phone":"+4915%08d"}}',
    types[(counter % #types) + 1], n, n % 100000000)
  return wrk.format(nil, "/v1/requests", nil, body)
end

function response(status, headers, body)
  if status ~= 202 then
    errors_seen = (errors_seen or 0) + 1
  end
end
