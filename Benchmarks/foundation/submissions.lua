-- POST /s/{token} (form-encoded, as the survey page posts) round-robin over seeded tokens.
local tokens = {}
for line in io.lines(os.getenv("TOKENS")) do tokens[#tokens + 1] = line end
local answers = {
  "score=9&factors=speed&factors=attitude&lost_time=none&comment=Quick+and+friendly",
  "score=3&factors=slow&factors=not_informed&lost_time=1to2h&comment=Took+two+days",
  "score=7&factors=speed_ok&lost_time=lt30m",
  "score=10&factors=skills",
}
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function request()
  counter = counter + 1
  local token = tokens[((counter * 2 + tid) % #tokens) + 1]
  return wrk.format("POST", "/s/" .. token, {["Content-Type"] = "application/x-www-form-urlencoded"}, answers[(counter % #answers) + 1])
end
function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d non2xx=%d\n", summary.requests, summary.errors.status))
end
