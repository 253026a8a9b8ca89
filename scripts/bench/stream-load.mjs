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
import { sumUserSystemSeconds } from './process-usage.mjs';
import { SseEventSplitter, StreamRecord, summarize, tallyStreams } from './stream-accounting.mjs';

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
 * @param {{ fromSeconds: number, toSeconds: number, pids: number[] }} [options.window] a steady window, in seconds
 *   from the first stream opened (SteadyWindow): the events received in it, the gaps added in it, and the user and
 *   system CPU of `pids` (the proxy) read at its two ends, on this process's clock, so that both count the same span
 */
export async function runStreamLoad({ url, body, headers = {}, streams, intervalMs, rampSeconds = 0, timeoutSeconds, window }) {
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
  const steady = window && new SteadyWindow(window, streams, startedAt, gaps);

  const openStream = (index) =>
    new Promise((resolve) => {
      const record = new StreamRecord(performance.now(), intervalMs, gaps);
      records[index] = record;
      const splitter = new SseEventSplitter();
      let transportError;
      let settled = false;
      let answered = false;
      const answer = () => {
        if (answered) return;
        answered = true;
        steady?.answered();
      };
      const finish = (extra = {}) => {
        if (settled) return;
        settled = true;
        answer();
        steady?.stop();
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
        answer();
        const retryAfter = response.headers['retry-after'];
        record.onHeaders(response.statusCode, typeof retryAfter === 'string' ? retryAfter : undefined);
        response.setEncoding('utf8');
        response.on('data', (chunk) => {
          const payloads = splitter.push(chunk);
          if (steady?.open) steady.events += payloads.length;
          record.onChunk(performance.now(), payloads);
        });
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
  const windowResult = steady?.result();
  return {
    ...(windowResult && { window: windowResult }),
    ...tallyStreams(records, outcomes, gaps),
    peakOpen,
    openedInSeconds: allOpenedMs / 1000,
    durationSeconds: (performance.now() - startedAt) / 1000,
  };
}

/**
 * The steady part of a run: every stream answered (its response head came, or it failed), none ended. It opens at
 * `fromSeconds` or when the last stream answers, whichever is later, and closes at `toSeconds` or when the first stream
 * ends, whichever is earlier; both on this process's clock, and what it counts is read between the two.
 */
class SteadyWindow {
  constructor({ fromSeconds, toSeconds, pids }, streams, startedAt, gaps) {
    this.pids = pids;
    this.gaps = gaps;
    this.startedAt = startedAt;
    this.waiting = streams;
    this.due = false;
    this.open = false;
    this.closed = false;
    this.events = 0;
    const delay = (seconds) => Math.max(0, startedAt + seconds * 1000 - performance.now());
    setTimeout(() => {
      this.due = true;
      this.maybeStart();
    }, delay(fromSeconds)).unref();
    setTimeout(() => this.stop(), delay(toSeconds)).unref();
  }

  /** A stream's response head came, or it failed without one. */
  answered() {
    this.waiting -= 1;
    this.maybeStart();
  }

  maybeStart() {
    if (!this.due || this.waiting > 0 || this.open || this.closed) return;
    this.open = true;
    this.events = 0;
    this.gapsFrom = this.gaps.length;
    this.cpuBefore = sumUserSystemSeconds(this.pids);
    this.openedAt = performance.now();
  }

  /** At `toSeconds`, or when a stream ends: the window closes (a stream ending before it opened does not close it). */
  stop() {
    if (!this.open) {
      if (this.due) this.closed = true;
      return;
    }
    this.open = false;
    this.closed = true;
    this.cpuAfter = sumUserSystemSeconds(this.pids);
    this.closedAt = performance.now();
    this.gapsTo = this.gaps.length;
  }

  /** Undefined when the window never opened (a stream still unanswered when it was due to close). */
  result() {
    if (this.cpuAfter === undefined) return undefined;
    return {
      openedAtSeconds: (this.openedAt - this.startedAt) / 1000,
      seconds: (this.closedAt - this.openedAt) / 1000,
      events: this.events,
      userSeconds: this.cpuAfter.user - this.cpuBefore.user,
      systemSeconds: this.cpuAfter.system - this.cpuBefore.system,
      addedGapMs: summarize(this.gaps.slice(this.gapsFrom, this.gapsTo)),
    };
  }
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
