// `node --expose-gc scripts/bench/recovery-cost.mjs` (after `pnpm build`): what keeping a chat stream recoverable
// costs when it does not break. Time per forwarded event of DeliveredStream.add against SseScanner.push on the same
// 500 events (three rounds, as a ratio: absolute figures move with the machine's load), and the heap a stream holds
// for it against keeping the event strings themselves (heap delta over 2,000 streams of 500 events).
import { DeliveredStream } from '../../packages/gateway/dist/recovery/delivered-stream.js';
import { SseScanner } from '../../packages/gateway/dist/upstream/sse-scanner.js';

if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc');
const WORDS = ['alpha', ' beta', ' gamma', ' delta', ' epsilon', ' zeta', ' theta'];
/** One flat string per event, as the relay's decoder makes them. */
const eventOf = (stream, index) =>
  Buffer.from(
    `data: {"id":"chatcmpl-${stream}","object":"chat.completion.chunk","created":1700000000,"model":"sim-model","system_fingerprint":"fp_0123456789","choices":[{"index":0,"delta":{"content":"${WORDS[index % 7]}"},"logprobs":null,"finish_reason":null}]}\n\n`,
  ).toString();
const events = Array.from({ length: 500 }, (_, index) => eventOf(0, index));
const buffers = events.map((event) => Buffer.from(event));

const ratios = [];
for (let round = 0; round < 3; round += 1) {
  let started = process.hrtime.bigint();
  for (let stream = 0; stream < 200; stream += 1) {
    const delivered = new DeliveredStream(1 << 20);
    for (const buffer of buffers) delivered.add(buffer);
  }
  const deliveredNs = Number(process.hrtime.bigint() - started) / 100_000;
  started = process.hrtime.bigint();
  for (let stream = 0; stream < 200; stream += 1) {
    const scanner = new SseScanner(false, { holdDone: true });
    for (const buffer of buffers) scanner.push(buffer);
  }
  const scannerNs = Number(process.hrtime.bigint() - started) / 100_000;
  ratios.push(Math.round((deliveredNs / scannerNs) * 100) / 100);
}

/** Heap bytes per stream of 500 events that `keep` holds on to. */
function heapPerStream(keep) {
  const kept = [];
  global.gc();
  const before = process.memoryUsage().heapUsed;
  for (let stream = 0; stream < 2_000; stream += 1) kept.push(keep(Array.from({ length: 500 }, (_, index) => eventOf(stream, index))));
  global.gc();
  const bytes = Math.round((process.memoryUsage().heapUsed - before) / kept.length);
  return bytes;
}
const baseline = heapPerStream(() => undefined);
const text = heapPerStream((streamEvents) => {
  const delivered = new DeliveredStream(1 << 20);
  for (const event of streamEvents) delivered.add(event);
  return delivered;
});
const raw = heapPerStream((streamEvents) => streamEvents);
console.log(JSON.stringify({ addVsScannerPush: ratios, heapBytesPerStream: { deliveredText: text - baseline, eventStrings: raw - baseline } }));
