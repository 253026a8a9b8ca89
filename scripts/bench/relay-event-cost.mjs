// The relay's own JavaScript per forwarded event, in-process (after `pnpm run build`): SseScanner.push past the first
// token, DeliveredStream.add (mid-stream recovery), StreamTokenEstimate.add past its sample, on events shaped as the
// simulator's (one event per chunk). Nanoseconds per event, the median of 7 rounds of 200,000 events.
//   node scripts/bench/relay-event-cost.mjs [--dist DIR]   (DIR: another build's packages/gateway/dist, for an A/B)
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const { values } = parseArgs({ options: { dist: { type: 'string', default: new URL('../../packages/gateway/dist', import.meta.url).pathname } } });
const dist = resolve(values.dist);
const { SseScanner } = await import(pathToFileURL(`${dist}/upstream/sse-scanner.js`).href);
const { DeliveredStream } = await import(pathToFileURL(`${dist}/recovery/delivered-stream.js`).href);
const { StreamTokenEstimate } = await import(pathToFileURL(`${dist}/usage/estimate-usage.js`).href);

const WORDS = ['an', ' answer', ' of', ' some', ' length', ',', ' with', ' words'];
const eventOf = (index) =>
  Buffer.from(
    `data: {"id":"chatcmpl-afe2249600000002","object":"chat.completion.chunk","created":1796534826,"model":"stream-10-per-second","system_fingerprint":"fp_180dcfca","choices":[{"index":0,"delta":{"content":"${WORDS[index % WORDS.length]}"},"logprobs":null,"finish_reason":null}]}\n\n`,
  );
const first = Buffer.from(
  'data: {"id":"chatcmpl-afe2249600000002","object":"chat.completion.chunk","created":1796534826,"model":"stream-10-per-second","system_fingerprint":"fp_180dcfca","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n',
);
const events = Array.from({ length: 1000 }, (_, index) => eventOf(index));
const ROUNDS = 7;
const PER_ROUND = 200_000;

function measure(name, setup) {
  const results = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    let step = setup();
    const started = process.hrtime.bigint();
    for (let index = 0; index < PER_ROUND; index += 1) {
      if (index % 1000 === 0 && index > 0) step = setup();
      step(events[index % 1000]);
    }
    results.push(Number(process.hrtime.bigint() - started) / PER_ROUND);
  }
  results.sort((a, b) => a - b);
  console.log(`${name} | ${results[ROUNDS >> 1].toFixed(0)} ns/event (min ${results[0].toFixed(0)})`);
}

measure('SseScanner.push (after the first token, onEvent to the estimate)', () => {
  const estimate = new StreamTokenEstimate();
  for (let index = 0; index < 40; index += 1) estimate.add(events[index]);
  const scanner = new SseScanner(false, { onEvent: (data) => estimate.add(data) });
  scanner.push(first);
  scanner.push(events[1]);
  return (event) => scanner.push(event);
});
measure('DeliveredStream.add', () => {
  const delivered = new DeliveredStream(1 << 20);
  delivered.add(first);
  return (event) => delivered.add(event);
});
