import autocannon from 'autocannon';

/**
 * The fallback when wrk is not installed. autocannon runs inside this Node process, and it keeps latencies in whole
 * milliseconds, so its sub-millisecond percentiles (the concurrency-1 runs) are too coarse to compare.
 */
export async function runAutocannon({ url, body, headers, connections, durationSeconds }) {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    connections,
    duration: durationSeconds,
    timeout: 5,
  });
  return {
    requests: result.requests.total,
    durationSeconds: result.duration,
    requestsPerSecond: result.requests.total / result.duration,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      mean: result.latency.mean,
      max: result.latency.max,
    },
    non2xx: result.non2xx,
    // autocannon counts timeouts among its errors and does not tell the other kinds apart.
    errors: { connect: 0, read: 0, write: 0, timeout: result.timeouts, other: result.errors - result.timeouts },
  };
}
