-- wrk script: POST /v1/stamp with a one-page PDF at B-LT (see stamp.sh).
-- Reads the multipart body and its boundary from files stamp.sh prepared.
local body_file = os.getenv("STAMP_BODY")
local f = assert(io.open(body_file, "rb"))
local body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. os.getenv("STAMP_BOUNDARY")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("STAMP_TOKEN")

local non_200 = 0
response = function(status, headers, body)
  if status ~= 200 then
    non_200 = non_200 + 1
    if non_200 <= 3 then io.stderr:write("status " .. status .. ": " .. body:sub(1, 200) .. "\n") end
  end
end

done = function(summary, latency, requests)
  local s = summary.duration / 1e6
  io.write(string.format("stamps %d in %.1f s: %.0f/s; non-2xx %d; errors %d\n",
    summary.requests, s, summary.requests / s,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  io.write(string.format("latency ms: p50 %.1f  p90 %.1f  p99 %.1f  max %.1f\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
