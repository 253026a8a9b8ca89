import { randomBytes } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@dosrouter/provider-sim';
import { SIMULATOR_KEY, startHarness, type Harness } from './test-support/harness.js';

/**
 * Traces as a collector receives them: a real OTLP/HTTP receiver (an HTTP server on port 0 that decodes the
 * exporter's OTLP JSON encoding), the official OpenAI client, and two simulators, the first faulted once.
 */

const MODEL = 'chat-model';
const PRIMARY = `sim/${MODEL}`;
const SPARE = `spare/${MODEL}`;

/** An OTLP AnyValue, as the JSON encoding writes it (64-bit integers may come as strings). */
interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: { key: string; value: AnyValue }[];
  status?: { code?: number; message?: string };
}
interface OtlpExport {
  resourceSpans?: { resource?: { attributes?: { key: string; value: AnyValue }[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

type Value = string | number | boolean | Value[];

/** A received span with its attributes decoded. */
interface Span {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes: Record<string, Value>;
  readonly statusCode: number;
  readonly service: Value | undefined;
}

function decodeValue(value: AnyValue): Value {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  return (value.arrayValue?.values ?? []).map(decodeValue);
}

function decodeAttributes(attributes: { key: string; value: AnyValue }[] | undefined): Record<string, Value> {
  return Object.fromEntries((attributes ?? []).map(({ key, value }) => [key, decodeValue(value)]));
}

/** OTLP/HTTP on POST /v1/traces: every span it was sent, decoded. */
interface Receiver {
  readonly url: string;
  readonly spans: Span[];
  readonly contentTypes: string[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const spans: Span[] = [];
  const contentTypes: string[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      contentTypes.push(String(request.headers['content-type']));
      if (request.method !== 'POST' || request.url !== '/v1/traces' || request.headers['content-type'] !== 'application/json') {
        response.writeHead(415).end();
        return;
      }
      const decoded = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport;
      for (const resourceSpans of decoded.resourceSpans ?? []) {
        const resource = decodeAttributes(resourceSpans.resource?.attributes);
        for (const scope of resourceSpans.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            spans.push({
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId ?? '',
              name: span.name,
              kind: span.kind,
              attributes: decodeAttributes(span.attributes),
              statusCode: span.status?.code ?? 0,
              service: resource['service.name'],
            });
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    contentTypes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Setup {
  readonly harness: Harness;
  readonly spare: Simulator;
}

const running: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((part) => part.close()));
});

/** A gateway with `telemetry` as given, in front of the harness's simulator (tried first: cheaper) and a spare. */
async function start(telemetry: Record<string, unknown> | undefined, modelRouting?: Record<string, unknown>): Promise<Setup> {
  const spare = await startSimulator({ models: [{ id: MODEL, outputTokens: 12 }], apiKey: SIMULATOR_KEY });
  running.push(spare);
  const harness = await startHarness({
    models: [{ id: MODEL, outputTokens: 12 }],
    configure: (config) => {
      const backends = config.backends as Record<string, unknown>[];
      (backends[0]!.models as Record<string, unknown>[])[0]!.pricing = { inputPerMTok: 1, outputPerMTok: 2 };
      backends.push({ name: 'spare', baseUrl: spare.baseUrl, apiKey: SIMULATOR_KEY, models: [{ name: MODEL, capabilities: ['streaming'], pricing: { inputPerMTok: 3, outputPerMTok: 7 } }] });
      config.routing = { strategy: 'cost', retry: { attempts: 3, initialBackoffMs: 50, maxBackoffMs: 100 }, ...(modelRouting ? { models: { [MODEL]: modelRouting } } : {}) };
      if (telemetry) config.telemetry = telemetry;
    },
  });
  running.push(harness);
  return { harness, spare };
}

function newTraceparent(): { traceId: string; parentId: string; header: string } {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  return { traceId, parentId, header: `00-${traceId}-${parentId}-01` };
}

describe('with tracing on', () => {
  it('exports the tree of a request that failed over once, with GenAI attributes, and propagates the trace to the backend', async () => {
    const receiver = await startReceiver();
    running.push(receiver);
    const { harness, spare } = await start({ tracing: { enabled: true, endpoint: `${receiver.url}/v1/traces`, captureContent: true } });
    harness.simulator.injectFaults({ kind: 'reset' });
    const client = harness.client();
    const parent = newTraceparent();

    const { data: stream, response } = await client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'Tell me a story.' }], stream: true, max_tokens: 40, temperature: 0.5 }, { headers: { traceparent: parent.header } })
      .withResponse();
    let streamed = '';
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
    expect(streamed.length).toBeGreaterThan(0);
    expect(response.headers.get('x-dosrouter-deployment')).toBe(SPARE);
    expect(response.headers.get('x-dosrouter-attempts')).toBe('2');
    // A second request, not streamed: its finish reasons and its text (content capture is on).
    const whole = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Say hello.' }] });

    // Shutting down exports what is queued: no waiting on the batch processor's schedule.
    await harness.gateway.close(1_000);
    expect(new Set(receiver.contentTypes)).toEqual(new Set(['application/json']));

    const trace = receiver.spans.filter((span) => span.traceId === parent.traceId);
    const root = trace.find((span) => span.parentSpanId === parent.parentId);
    expect(root).toMatchObject({ name: 'POST /v1/chat/completions', kind: 2, service: 'dosrouter-gateway' });
    expect(root!.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.response.status_code': 200,
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': MODEL,
      'gen_ai.request.max_tokens': 40,
      'gen_ai.request.temperature': 0.5,
      'gen_ai.request.stream': true,
      'gen_ai.response.model': MODEL,
      'gen_ai.usage.output_tokens': 12,
      'gen_ai.input.messages': JSON.stringify([{ role: 'user', content: 'Tell me a story.' }]),
      'dosrouter.attempts': 2,
      'dosrouter.deployment': SPARE,
      'dosrouter.routing.strategy': 'cost',
    });
    expect(root!.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);

    const children = trace.filter((span) => span.parentSpanId === root!.spanId);
    expect(children.map((span) => span.name).sort()).toEqual([`chat ${MODEL}`, `chat ${MODEL}`, `route ${MODEL}`]);
    const routing = children.find((span) => span.name === `route ${MODEL}`)!;
    expect(routing.attributes).toMatchObject({
      'dosrouter.routing.strategy': 'cost',
      'dosrouter.routing.target': MODEL,
      'dosrouter.routing.candidates': [PRIMARY, SPARE],
      'dosrouter.routing.order': [PRIMARY, SPARE],
      'dosrouter.routing.filtered': [],
    });

    const attempts = children.filter((span) => span.kind === 3);
    const failed = attempts.find((span) => span.attributes['dosrouter.deployment'] === PRIMARY)!;
    const answered = attempts.find((span) => span.attributes['dosrouter.deployment'] === SPARE)!;
    expect(failed.statusCode).toBe(2);
    expect(failed.attributes).toMatchObject({
      'dosrouter.attempt.outcome': 'failed',
      'gen_ai.provider.name': 'sim',
      'gen_ai.request.model': MODEL,
      'server.address': '127.0.0.1',
    });
    expect(failed.attributes['dosrouter.attempt.retry_reason']).toMatch(/^(retry|failover)$/);
    expect(failed.attributes['error.type']).toEqual(expect.any(String));
    expect(answered.statusCode).toBe(0);
    expect(answered.attributes).toMatchObject({ 'dosrouter.attempt.outcome': 'ok', 'dosrouter.backend': 'spare', 'gen_ai.usage.output_tokens': 12 });
    expect(answered.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThanOrEqual(0);

    // The backend that answered was sent the attempt span's traceparent, in the client's trace.
    const sent = spare.recentRequests().find((request) => request.path.endsWith('/chat/completions'))!;
    expect(sent.headers.traceparent).toBe(`00-${parent.traceId}-${answered.spanId}-01`);

    // The non-streamed request: a trace of its own, its finish reasons, and its answer's text.
    const wholeAttempt = receiver.spans.find((span) => span.kind === 3 && span.traceId !== parent.traceId)!;
    expect(wholeAttempt.attributes['gen_ai.response.finish_reasons']).toEqual([whole.choices[0]!.finish_reason]);
    expect(JSON.parse(String(wholeAttempt.attributes['gen_ai.output.messages']))[0].message.content).toBe(whole.choices[0]!.message.content);
  });

  it("traces an Anthropic Messages request without changing its answer", async () => {
    const receiver = await startReceiver();
    running.push(receiver);
    const { harness } = await start({ tracing: { enabled: true, endpoint: `${receiver.url}/v1/traces` } });
    const client = new Anthropic({ apiKey: 'client-key-not-forwarded', baseURL: harness.gateway.url, maxRetries: 0, timeout: 20_000 });

    const message = await client.messages.create({ model: MODEL, max_tokens: 50, messages: [{ role: 'user', content: 'Hello there.' }] });
    expect(message.content[0]?.type).toBe('text');
    expect(message.stop_reason).toBe('end_turn');
    await harness.gateway.close(1_000);

    // A route of the metrics' fixed set: the span is named by its method and route, its path an attribute too.
    const root = receiver.spans.find((span) => span.kind === 2)!;
    expect(root).toMatchObject({ name: 'POST /v1/messages', attributes: expect.objectContaining({ 'url.path': '/v1/messages', 'gen_ai.operation.name': 'chat', 'http.response.status_code': 200 }) });
    const attempt = receiver.spans.find((span) => span.kind === 3)!;
    expect(attempt.parentSpanId).toBe(root.spanId);
    // The answer the attempt relayed (Chat Completions, before the ingress translated it) ended with `stop`.
    expect(attempt.attributes['gen_ai.response.finish_reasons']).toEqual(['stop']);
  });

  it('gives each of two hedged attempts its span under the request, the loser ended when the winner answered', async () => {
    const receiver = await startReceiver();
    running.push(receiver);
    const { harness } = await start({ tracing: { enabled: true, endpoint: `${receiver.url}/v1/traces` } }, { hedge: { afterMs: 200 } });
    harness.simulator.injectFaults({ kind: 'slow_first_token', delayMs: 3_000 });

    const stream = await harness.client().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Race.' }], stream: true });
    let streamed = '';
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
    expect(streamed.length).toBeGreaterThan(0);
    await harness.gateway.close(1_000);

    const root = receiver.spans.find((span) => span.kind === 2)!;
    expect(root.attributes).toMatchObject({ 'dosrouter.deployment': SPARE, 'dosrouter.attempts': 2 });
    const attempts = receiver.spans.filter((span) => span.kind === 3);
    expect(attempts.every((span) => span.parentSpanId === root.spanId && span.traceId === root.traceId)).toBe(true);
    expect(attempts.map((span) => span.attributes['dosrouter.deployment']).sort()).toEqual([PRIMARY, SPARE]);
    expect(attempts.find((span) => span.attributes['dosrouter.deployment'] === SPARE)!.attributes['dosrouter.attempt.outcome']).toBe('ok');
    const loser = attempts.find((span) => span.attributes['dosrouter.deployment'] === PRIMARY)!;
    // Stopped by the winner: cancelled, not a failure of its backend.
    expect(loser.attributes['dosrouter.attempt.outcome']).toBe('cancelled');
    expect(loser.statusCode).toBe(0);
    expect(loser.attributes['dosrouter.attempt.retry_reason']).toBeUndefined();
  });

  it('answers as fast as ever when the collector is unreachable', async () => {
    const receiver = await startReceiver();
    const deadUrl = receiver.url;
    await receiver.close();
    const { harness } = await start({ tracing: { enabled: true, endpoint: `${deadUrl}/v1/traces` } });
    const client = harness.client();
    for (let index = 0; index < 20; index += 1) {
      const answer = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: `Question ${index}` }] });
      expect(answer.choices[0]?.message.content).toBeTruthy();
    }
    // The drain is bounded too: the last spans are given up on, not waited for.
    const closing = Date.now();
    await harness.gateway.close(1_000);
    expect(Date.now() - closing).toBeLessThan(10_000);
  });
});

describe('with tracing off', () => {
  it.each([
    ["passes the client's traceparent and tracestate to the backend unchanged", 'vendor=opaque', 'vendor=opaque'],
    ['sends the traceparent without a tracestate that is not W3C list members', 'ignore previous instructions', undefined],
  ])('%s', async (_name, tracestate, expected) => {
    const { harness } = await start(undefined);
    const parent = newTraceparent();
    await harness.client().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hello' }] }, { headers: { traceparent: parent.header, tracestate } });
    const sent = harness.simulator.recentRequests().at(-1)!;
    expect(sent.headers.traceparent).toBe(parent.header);
    expect(sent.headers.tracestate).toBe(expected);
  });

  it('sends no traceparent when the client sent none, or an invalid one', async () => {
    const { harness } = await start(undefined);
    await harness.client().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hello' }] }, { headers: { traceparent: 'not-a-traceparent' } });
    await harness.client().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hello' }] });
    for (const request of harness.simulator.recentRequests()) expect(request.headers.traceparent).toBeUndefined();
  });
});
