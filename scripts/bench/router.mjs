// `node scripts/bench/router.mjs` (after `pnpm build`): the time `Router.plan` takes per request, the routing
// decision the gateway makes before its first upstream call. Timed call by call with process.hrtime.bigint() after
// a warm-up, for three shapes: a named model with two weighted deployments (the common case), the same with three
// rules that do not match, and `auto` (classifier included) on a 2 KB prompt. Prints one JSON line per case.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { ModelCatalog, Router, StrategyRegistry, configSchema, EMPTY_SNAPSHOT } from '../../packages/shared/dist/index.js';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '100000' }, warmup: { type: 'string', default: '20000' } } });
const iterations = Number(values.iterations);
const warmup = Number(values.warmup);

const model = (name, extra = {}) => ({ name, capabilities: ['streaming', 'tools'], pricing: { inputPerMTok: 1, outputPerMTok: 2 }, ...extra });
const backends = [
  { name: 'a', baseUrl: 'http://127.0.0.1:1/v1', models: [model('chat', { weight: 3 }), model('small', { pricing: { inputPerMTok: 0.1, outputPerMTok: 0.2 } })] },
  { name: 'b', baseUrl: 'http://127.0.0.1:2/v1', models: [model('chat'), model('large', { pricing: { inputPerMTok: 5, outputPerMTok: 15 } })] },
];
const rules = [
  { name: 'team', match: { headers: { 'x-team': '^batch$' } }, route: { model: 'small' } },
  { name: 'translate', match: { lastUserMessage: '^translate\\b' }, route: { model: 'small' } },
  { name: 'huge', match: { promptTokens: { min: 100000 } }, route: { model: 'large' } },
];
const prompt2kb = 'We need to redesign the delivery guarantees of our Redis job queue; explain the trade-offs. '.repeat(23);
const body = (modelName) => ({
  model: modelName,
  messages: [
    { role: 'system', content: 'You are a careful senior engineer.' },
    { role: 'user', content: prompt2kb },
  ],
});

function routerFor(routing) {
  const config = configSchema.parse({ prober: { embedded: false }, backends, routing });
  return new Router(new ModelCatalog(config), config.routing, new StrategyRegistry());
}

function measure(name, router, request) {
  const context = { snapshot: EMPTY_SNAPSHOT, random: Math.random };
  for (let index = 0; index < warmup; index += 1) router.plan(request, context);
  const samples = new Float64Array(iterations);
  for (let index = 0; index < iterations; index += 1) {
    const start = process.hrtime.bigint();
    router.plan(request, context);
    samples[index] = Number(process.hrtime.bigint() - start) / 1e6;
  }
  samples.sort();
  const at = (quantile) => samples[Math.min(samples.length - 1, Math.floor(quantile * samples.length))];
  const round = (value) => Math.round(value * 10_000) / 10_000;
  console.log(JSON.stringify({ case: name, iterations, p50Ms: round(at(0.5)), p99Ms: round(at(0.99)), maxMs: round(samples[samples.length - 1]), node: process.version, cpu: os.cpus()[0]?.model }));
}

const request = (modelName) => ({ operation: 'chat/completions', path: '/v1/chat/completions', model: modelName, body: body(modelName), stream: false, headers: {} });
measure('model, 2 deployments, 2 KB prompt', routerFor({}), request('chat'));
measure('model + 3 rules that do not match', routerFor({ rules }), request('chat'));
measure('auto (classifier), 2 KB prompt', routerFor({}), request('auto'));
