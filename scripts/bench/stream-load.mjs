// The stream load generator: opens N concurrent SSE streams (POST /v1/chat/completions, stream: true) from one
// process on raw node:http, and reports per run how many completed or failed (and why), events received, time to
// first byte and the gap each proxy adds between events. Not the openai SDK: at 10,000 streams its per-stream cost
// would make the load generator the bottleneck.
//
// As a module: runStreamLoad(options). As a process (what the benchmark runs, so that its CPU is its own):
//   node scripts/bench/stream-load.mjs '{"url":"http://127.0.0.1:8080/v1/chat/completions","streams":1000,...}'
// prints one JSON line with the result. It needs a file descriptor per stream: see docs/benchmarks.md.
import { Agent, request } from 'node:http';
import { pathToFileURL } from 'node:url';
import { SseEventSplitter, StreamRecord, tallyStreams } from './stream-accounting.mjs';

/** How often the ramp opens its next batch of streams. */
const RAMP_STEP_MS = 10;

/**
 * Opens `streams` streams to `url`, spread evenly over `rampSeconds` (0: all at once), and resolves when every one
 * has ended or `timeoutSeconds` after the first opened, when the rest are cut and count as timed out.
 *
 * @param {object} options
 * @param {string} options.url
 * @param {string} options.body the JSON request body
 * @param {Record<string, string>} [options.headers]
 * @param {number} options.streams
 * @param {number} options.intervalMs the simulator's configured gap between content events
 * @param {number} [options.rampSeconds] default 0
 * @param {number} options.timeoutSeconds
 */
export async function runStreamLoad({ url, body, headers = {}, streams, intervalMs, rampSeconds = 0, timeoutSeconds }) {
  const target = new URL(url);
  // One connection per stream, none kept afterwards: a stream holds its connection for its whole life anyway.
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const requestHeaders = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers };
  const gaps = [];
  const records = [];
  const outcomes = [];
  const live = new Set();
  let open = 0;
  let peakOpen = 0;
  const startedAt = performance.now();

  const openStream = (index) =>
    new Promise((resolve) => {
      const record = new StreamRecord(performance.now(), intervalMs, gaps);
      records[index] = record;
      const splitter = new SseEventSplitter();
      let transportError;
      let settled = false;
      const finish = (extra = {}) => {
        if (settled) return;
        settled = true;
        open -= 1;
        live.delete(handle);
        outcomes[index] = record.outcome({ transportError, cutMidEvent: splitter.pendingLength > 0, ...extra });
        resolve();
      };
      const client = request({ agent, method: 'POST', host: target.hostname, port: target.port, path: target.pathname, headers: requestHeaders });
      const handle = { timeOut: () => { finish({ timedOut: true }); client.destroy(); } };
      live.add(handle);
      open += 1;
      peakOpen = Math.max(peakOpen, open);
      client.on('response', (response) => {
        const retryAfter = response.headers['retry-after'];
        record.onHeaders(response.statusCode, typeof retryAfter === 'string' ? retryAfter : undefined);
        response.setEncoding('utf8');
        response.on('data', (chunk) => record.onChunk(performance.now(), splitter.push(chunk)));
        response.on('end', () => finish());
        response.on('error', (error) => {
          transportError ??= error.code ?? error.message;
        });
        response.on('close', () => finish());
      });
      client.on('error', (error) => {
        transportError ??= error.code ?? error.message;
        finish();
      });
      client.end(body);
    });

  const running = [];
  const perStep = rampSeconds > 0 ? Math.max(1, Math.ceil((streams * RAMP_STEP_MS) / (rampSeconds * 1000))) : streams;
  const deadline = setTimeout(() => [...live].forEach((handle) => handle.timeOut()), timeoutSeconds * 1000);
  for (let next = 0; next < streams; ) {
    const end = Math.min(streams, next + perStep);
    for (; next < end; next += 1) running.push(openStream(next));
    if (next < streams) await new Promise((resolve) => setTimeout(resolve, RAMP_STEP_MS));
  }
  const allOpenedMs = performance.now() - startedAt;
  await Promise.all(running);
  clearTimeout(deadline);
  agent.destroy();
  return {
    ...tallyStreams(records, outcomes, gaps),
    peakOpen,
    openedInSeconds: allOpenedMs / 1000,
    durationSeconds: (performance.now() - startedAt) / 1000,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const options = JSON.parse(process.argv[2] ?? '{}');
  runStreamLoad(options).then(
    (result) => {
      const usage = process.resourceUsage();
      // Its own cost, so that a report can show the load generator was not the bottleneck.
      const loadGenerator = { cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6, maxRssMegabytes: usage.maxRSS / 1024 };
      process.stdout.write(`${JSON.stringify({ ...result, loadGenerator })}\n`);
    },
    (error) => {
      process.stderr.write(`stream-load: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
