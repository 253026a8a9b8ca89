// The CPU that tracing adds to one request, measured in-process (docs/benchmarks.md, "Tracing"): the spans of a
// request with one attempt (request, routing, attempt: what a gateway request makes) are started, given their
// attributes and ended through the gateway's own tracer, N times, with the batch processor exporting to an OTLP sink
// (or to a port where nothing listens: --collector-down). CPU is process.cpuUsage(), so other load on the machine
// changes the figure much less than a wall-clock benchmark. After `pnpm run build`:
//   node scripts/bench/tracing-cost.mjs [--requests 50000] [--collector-down]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { createLogger } from '../../packages/shared/dist/index.js';
import { createOtelTracer } from '../../packages/gateway/dist/telemetry/tracing/otel-tracer.js';

const { values } = parseArgs({
  options: { requests: { type: 'string', default: '50000' }, rate: { type: 'string', default: '5000' }, 'collector-down': { type: 'boolean', default: false } },
});
const requests = Number(values.requests);
// Requests per second, paced in 10 ms ticks: the batch processor sees the rate a busy gateway makes.
const perTick = Math.max(1, Math.round(Number(values.rate) / 100));
// The collector is another process (its CPU is not this one's), or, with --collector-down, a port nothing listens on.
const sink = spawn(process.execPath, [new URL('./otlp-sink.mjs', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit'] });
const [firstLine] = await once(sink.stdout, 'data');
const sinkUrl = String(firstLine).trim();
let received = '';
sink.stdout.on('data', (chunk) => (received += chunk));
if (values['collector-down']) {
  sink.kill('SIGTERM');
  await once(sink, 'exit');
}
const port = new URL(sinkUrl).port;

const tracer = createOtelTracer({
  endpoint: `http://127.0.0.1:${port}/v1/traces`,
  captureContent: false,
  replica: 'bench',
  logger: createLogger({ level: 'error', service: 'bench' }),
  clock: () => performance.now(),
});
const deployment = { id: 'sim/bench-model', backend: 'sim', model: 'bench-model', upstreamModel: 'bench-model' };
const backend = { name: 'sim', kind: 'openai', baseUrl: 'http://127.0.0.1:9000/v1' };
const plan = {
  requestedModel: 'bench-model', target: 'bench-model', targetKind: 'model', strategy: { name: 'weighted', source: 'default' },
  steps: [{ name: 'bench-model', source: 'requested', strategy: 'weighted', verdicts: [{ deployment, passed: true }], order: [deployment] }],
  attempts: [deployment], keptDrained: false,
};
const proxied = { model: 'bench-model', stream: false, includeUsage: false, body: { model: 'bench-model', messages: [{ role: 'user', content: 'hi' }], max_tokens: 16 } };
const outcome = { requestId: 'r', route: '/v1/chat/completions', receivedAt: 0, attempts: 1, deployment: deployment.id, model: 'bench-model', upstreamStartedAt: 1, usage: { promptTokens: 10, completionTokens: 16, totalTokens: 26 } };
const answer = Buffer.from(JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }] }));

function oneRequest() {
  const trace = tracer.startRequest({}, { method: 'POST', route: '/v1/chat/completions', path: '/v1/chat/completions', requestId: 'r' });
  trace.validated('chat/completions', proxied);
  trace.planned(plan);
  const attempt = trace.attempt(deployment, backend);
  attempt.answered?.(answer);
  attempt.ended({ ok: true }, outcome);
  trace.ended(outcome, 200);
}

// Warm-up, then the measured run, paced.
const tick = () => new Promise((resolve) => setTimeout(resolve, 10));
for (let done = 0; done < 5000; done += perTick) {
  for (let index = 0; index < perTick; index += 1) oneRequest();
  await tick();
}
const before = process.cpuUsage();
const started = performance.now();
for (let done = 0; done < requests; done += perTick) {
  for (let index = 0; index < perTick; index += 1) oneRequest();
  await tick();
}
await tracer.shutdown();
const cpu = process.cpuUsage(before);
if (!values['collector-down']) {
  sink.kill('SIGTERM');
  await once(sink, 'exit');
}
console.log(JSON.stringify({
  requests,
  ratePerSecond: Number(values.rate),
  collectorDown: values['collector-down'],
  cpuMicrosecondsPerRequest: Number(((cpu.user + cpu.system) / requests).toFixed(1)),
  wallMs: Math.round(performance.now() - started),
  sink: received.trim() || 'down',
}));
