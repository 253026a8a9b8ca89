// `node scripts/bench/recovery-seam.mjs` (after `pnpm build`): what a mid-stream recovery costs the client, in one
// process on the provider simulator. Two backends serve the same model, tokens `--interval` ms apart; each round
// streams once cleanly and once with the primary cut after `--cut-after` tokens (then, with --replay, the spare
// refusing the prefill; --first-token: each backend's time to first token). Measured at the client: the gap between the last token before the seam and the first after
// it, against the median gap between other tokens; and the whole stream's time against the clean one. Prints one
// JSON line.
import { parseArgs } from 'node:util';
import { startSimulator } from '../../packages/provider-sim/dist/index.js';
import { configSchema, createLogger } from '../../packages/shared/dist/index.js';
import { startGateway } from '../../packages/gateway/dist/index.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '40' },
    interval: { type: 'string', default: '10' },
    tokens: { type: 'string', default: '40' },
    'cut-after': { type: 'string', default: '20' },
    'first-token': { type: 'string', default: '0' },
    replay: { type: 'boolean', default: false },
  },
});
const rounds = Number(values.rounds);
const interval = Number(values.interval);
const tokens = Number(values.tokens);
const cutAfter = Number(values['cut-after']);
const KEY = 'sk-bench';

const firstToken = Number(values['first-token']);
const model = { id: 'chat-model', outputTokens: tokens, interTokenDelayMs: interval, firstTokenDelayMs: firstToken };
const primary = await startSimulator({ models: [model], apiKey: KEY });
const spare = await startSimulator({ models: [{ ...model, rejectsPrefill: values.replay }], apiKey: KEY });
const config = configSchema.parse({
  logging: { level: 'warn' },
  prober: { embedded: false },
  backends: [
    { name: 'sim', baseUrl: primary.baseUrl, apiKey: KEY, models: [{ name: 'chat-model', capabilities: ['streaming'], pricing: { inputPerMTok: 1, outputPerMTok: 2 } }] },
    { name: 'spare', baseUrl: spare.baseUrl, apiKey: KEY, models: [{ name: 'chat-model', capabilities: ['streaming'], pricing: { inputPerMTok: 3, outputPerMTok: 7 } }] },
  ],
  routing: { strategy: 'cost' },
  // Every round cuts the primary on purpose: its circuit must not open and send the next rounds elsewhere.
  breakers: { errorThresholdPercentage: 100, volumeThreshold: 1_000_000 },
});
const gateway = await startGateway({ config, logger: createLogger({ level: 'warn', service: 'gateway' }), port: 0, host: '127.0.0.1' });

/** Token arrival times (ms from the request) of one stream through the gateway. */
async function stream() {
  const started = performance.now();
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'chat-model', stream: true, messages: [{ role: 'user', content: 'Tell me a story.' }] }),
  });
  const times = [];
  let pending = '';
  const decoder = new TextDecoder();
  for await (const chunk of response.body) {
    pending += decoder.decode(chunk, { stream: true });
    const events = pending.split('\n\n');
    pending = events.pop();
    for (const event of events) if (event.includes('"content":"') && !event.includes('"content":""')) times.push(performance.now() - started);
  }
  if (times.length !== tokens) throw new Error(`expected ${tokens} tokens, got ${times.length}`);
  return times;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const quantile = (values, q) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))];
const seamGaps = [];
const otherGaps = [];
const extraTotal = [];
for (let round = 0; round < rounds; round += 1) {
  const clean = await stream();
  primary.injectFaults({ kind: 'stream_cut', afterTokens: cutAfter });
  const recovered = await stream();
  seamGaps.push(recovered[cutAfter] - recovered[cutAfter - 1]);
  for (let index = 1; index < tokens; index += 1) if (index !== cutAfter) otherGaps.push(recovered[index] - recovered[index - 1]);
  extraTotal.push(recovered.at(-1) - clean.at(-1));
}
if (primary.stats.faults.stream_cut !== rounds) throw new Error(`${primary.stats.faults.stream_cut} cuts in ${rounds} rounds`);
await gateway.close(1_000);
await Promise.all([primary.close(), spare.close()]);
const round2 = (value) => Math.round(value * 100) / 100;
console.log(
  JSON.stringify({
    mode: values.replay ? 'replay' : 'prefill',
    rounds,
    intervalMs: interval,
    firstTokenMs: firstToken,
    tokens,
    cutAfter,
    seamGapMs: { p50: round2(median(seamGaps)), p90: round2(quantile(seamGaps, 0.9)), max: round2(Math.max(...seamGaps)) },
    otherGapMs: { p50: round2(median(otherGaps)), p90: round2(quantile(otherGaps, 0.9)) },
    extraTotalMs: { p50: round2(median(extraTotal)), p90: round2(quantile(extraTotal, 0.9)) },
  }),
);
