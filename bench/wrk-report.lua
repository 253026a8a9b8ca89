-- wrk script for scripts/bench.mjs: POSTs one JSON body on every request and, when the run ends, prints one
-- machine-readable line that the harness parses instead of wrk's human summary.
-- Arguments (after `--` on the wrk command line): <json body> [authorization header value]

function init(args)
  wrk.method = "POST"
  wrk.body = args[1]
  wrk.headers["content-type"] = "application/json"
  if args[2] ~= nil and args[2] ~= "" then
    wrk.headers["authorization"] = args[2]
  end
end

-- Latencies are in microseconds; duration is in microseconds too.
-- errors.status counts responses with a status of 400 or above (wrk's own definition of a status error).
function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"durationMicroseconds":%d,"bytes":%d,' ..
    '"latencyMicroseconds":{"p50":%d,"p90":%d,"p99":%d,"mean":%.2f,"max":%d,"min":%d},' ..
    '"errors":{"status":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max, latency.min,
    errors.status, errors.connect, errors.read, errors.write, errors.timeout))
end
