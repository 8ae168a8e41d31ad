-- POST /api/v1/closures with a unique ticket per request (each creates an invitation and an outbox row).
local counter = 0
local threads = {}
-- PREFIX keeps tickets unique when several wrk processes run at once (Benchmarks/postgres).
local prefix = os.getenv("PREFIX") or "W"
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function request()
  counter = counter + 1
  local body = string.format(
    '{"ticket_id":"%s%d-%d","source":"bench","kind":"incident","requester":{"email":"u%s%d-%d@example.com","name":"Bench","locale":"en"},' ..
    '"assignee":{"id":"a1","name":"Sam"},"group":"Desk","service":"VPN"}', prefix, tid, counter, prefix, tid, counter)
  return wrk.format("POST", "/api/v1/closures", {["Content-Type"] = "application/json"}, body)
end
function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d non2xx=%d\n", summary.requests, summary.errors.status))
end
