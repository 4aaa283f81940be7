-- wrk script for the webhook reference: the same POST dsrd's delivery makes
-- (a JSON body of the same size, the three Standard Webhooks headers) to the
-- same local receiver, with no database behind it: the HTTP floor.
function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["webhook-id"] = "msg_0123456789abcdef0123456789abcdef"
  wrk.headers["webhook-timestamp"] = "2000000000"
  wrk.headers["webhook-signature"] = "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="
  wrk.body = '{"type":"dsr.updated","timestamp":"2033-05-18T03:33:20Z","data":{"bench_seq":123456,"status":"forwarded"}}'
end
