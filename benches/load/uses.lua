-- wrk script: POST /v1/license-uses (see uses.sh), body and token from the environment.
local f = assert(io.open(os.getenv("USE_BODY"), "rb"))
local body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("USE_TOKEN")

local non_201 = 0
response = function(status, headers, body)
  if status ~= 201 then
    non_201 = non_201 + 1
    if non_201 <= 3 then io.stderr:write("status " .. status .. ": " .. body:sub(1, 200) .. "\n") end
  end
end

done = function(summary, latency, requests)
  local s = summary.duration / 1e6
  io.write(string.format("uses %d in %.1f s: %.0f/s; non-2xx %d; errors %d\n",
    summary.requests, s, summary.requests / s,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  io.write(string.format("latency ms: p50 %.1f  p90 %.1f  p99 %.1f  max %.1f\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
