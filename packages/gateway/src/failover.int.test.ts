import OpenAI from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatedModel, type Simulator } from '@dosrouter/provider-sim';
import { SIMULATOR_KEY, captureApiError, eventually, startHarness, type Harness } from './test-support/harness.js';

/**
 * The gateway's failover rules against the provider simulator's real faults, as the official client sees them and
 * as the simulators count them. Every test gets a fresh gateway: circuits and rolling stats must not leak.
 */

type Config = Record<string, unknown> & { backends: Record<string, unknown>[] };

const MODEL = 'chat-model';
const PRIMARY = `sim/${MODEL}`;
const SPARE = `spare/${MODEL}`;
/** The primary is cheaper, so the cost strategy always tries it first and the spare second. */
const PRIMARY_PRICING = { inputPerMTok: 1, outputPerMTok: 2 };
const SPARE_PRICING = { inputPerMTok: 3, outputPerMTok: 7 };
/** Short backoffs, so that a test with a few retries takes well under a second. */
const FAST_RETRY = { attempts: 3, initialBackoffMs: 200, maxBackoffMs: 400, deadlineMs: 4_000 };
const messages = [{ role: 'user' as const, content: 'Tell me a story.' }];
/**
 * What a busy machine may add to a wait measured here on the wall clock. These tests check that a wait happens and
 * that it is of the right kind (retry-after, not a backoff; the model's backoff, not the default); the exact bounds are
 * checked on an injected clock in packages/shared/src/routing/router/attempts.test.ts.
 */
const BUSY_MACHINE_SLACK_MS = 3_000;

interface Setup {
  readonly harness: Harness;
  /** Backend `sim`, the harness's simulator: deployment `sim/chat-model`, tried first. */
  readonly primary: Simulator;
  /** Backend `spare`: deployment `spare/chat-model`, the other one (not configured with `spare: false`). */
  readonly spare: Simulator;
  readonly client: OpenAI;
}

const running: Setup[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map(({ harness, spare }) => Promise.all([harness.close(), spare.close()])));
});

/** A gateway in front of the primary simulator and, unless `spare: false`, a second simulator serving the same model. */
async function start(
  options: {
    spare?: boolean;
    /** What the primary simulator serves; every model is configured on backend `sim` under the same name. */
    models?: SimulatedModel[];
    retry?: Partial<typeof FAST_RETRY>;
    /** The primary backend's timeouts. */
    timeouts?: Record<string, number>;
    configure?: (config: Config) => void;
  } = {},
): Promise<Setup> {
  const spare = await startSimulator({ models: [{ id: MODEL, outputTokens: 20 }], apiKey: SIMULATOR_KEY });
  const harness = await startHarness({
    models: options.models ?? [{ id: MODEL, outputTokens: 20 }],
    configure: (raw) => {
      const config = raw as Config;
      const primary = config.backends[0]!;
      primary.timeouts = options.timeouts ?? {};
      for (const model of primary.models as Record<string, unknown>[]) if (model.name === MODEL) model.pricing = PRIMARY_PRICING;
      if (options.spare !== false) {
        config.backends.push({ name: 'spare', baseUrl: spare.baseUrl, apiKey: SIMULATOR_KEY, models: [{ name: MODEL, capabilities: ['streaming'], pricing: SPARE_PRICING }] });
      }
      config.routing = { strategy: 'cost', retry: { ...FAST_RETRY, ...options.retry }, models: {} };
      // The retry deadlines here are short: the first-token deadline must end before them (a config rule).
      config.upstream = { timeouts: { firstTokenMs: 300 } };
      options.configure?.(config);
    },
  }).catch(async (error: unknown) => {
    await spare.close();
    throw error;
  });
  const setup = { harness, primary: harness.simulator, spare, client: harness.client() };
  running.push(setup);
  return setup;
}

/** Sets `routing.models.<model>`, for the per-model retry policy and fallbacks. */
function modelRouting(config: Config, model: string, routing: Record<string, unknown>): void {
  ((config.routing as { models: Record<string, unknown> }).models)[model] = routing;
}

/** Which deployment answered, after how many attempts: the gateway's response headers. */
interface Routed {
  deployment: string | null;
  attempts: number;
}

function routedBy(headers: Headers): Routed {
  return { deployment: headers.get('x-dosrouter-deployment'), attempts: Number(headers.get('x-dosrouter-attempts')) };
}

interface Answer extends Routed {
  completion: OpenAI.ChatCompletion;
  costUsd: number;
  elapsedMs: number;
}

/** One non-streamed completion through the gateway, with the routing headers it came with. */
async function ask(setup: Setup, model = MODEL, content = messages[0]!.content): Promise<Answer> {
  const started = Date.now();
  const { data, response } = await setup.client.chat.completions.create({ model, messages: [{ role: 'user', content }] }).withResponse();
  return {
    ...routedBy(response.headers),
    completion: data,
    costUsd: Number(response.headers.get('x-dosrouter-cost-usd')),
    elapsedMs: Date.now() - started,
  };
}

interface StreamRead extends Routed {
  chunks: ChatCompletionChunk[];
  content: string;
  /** What iterating threw, if anything. */
  error: unknown;
  /** From sending the request to the first chunk. */
  firstChunkMs: number;
}

/** One streamed completion through the official client, read to its end or to the error it throws. */
async function askStream(setup: Setup): Promise<StreamRead> {
  const started = Date.now();
  const { data: stream, response } = await setup.client.chat.completions.create({ model: MODEL, messages, stream: true }).withResponse();
  const chunks: ChatCompletionChunk[] = [];
  let firstChunkMs = 0;
  const error = await (async () => {
    for await (const chunk of stream) {
      if (chunks.length === 0) firstChunkMs = Date.now() - started;
      chunks.push(chunk);
    }
  })().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  const content = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
  return { ...routedBy(response.headers), chunks, content, error, firstChunkMs };
}

/** The `data:` payloads of one streamed completion exactly as the gateway sent them. */
async function rawStreamEvents(setup: Setup): Promise<string[]> {
  const response = await setup.client.chat.completions.create({ model: MODEL, messages, stream: true }).asResponse();
  const text = await response.text();
  return text
    .split('\n\n')
    .filter((event) => event.startsWith('data: '))
    .map((event) => event.slice('data: '.length));
}

/** The access-log line of the `count`-th request, once the gateway has written it. */
async function accessLine(setup: Setup, count = 1): Promise<Record<string, unknown>> {
  await eventually(() => setup.harness.logs.accessLines().length >= count, 10_000, `access line ${count}`);
  return setup.harness.logs.accessLines()[count - 1]!;
}

/** The spare answered, on the second attempt, after the one call to the primary got `fault`. */
function expectFailedOver(setup: Setup, routed: Routed, fault: string): void {
  expect(routed.deployment).toBe(SPARE);
  expect(routed.attempts).toBe(2);
  expect(setup.primary.stats.faults).toEqual({ [fault]: 1 });
  expect(setup.primary.stats.requests).toBe(1);
  expect(setup.spare.stats.requests).toBe(1);
}

/** Milliseconds between the simulator's first and last recorded requests. */
function spreadMs(simulator: Simulator): number {
  const times = simulator.recentRequests().map((request) => request.receivedAt);
  return Math.max(...times) - Math.min(...times);
}

describe('transient errors on a single deployment are retried on it after a backoff', () => {
  it('retries a 429 without retry-after after the backoff and succeeds', async () => {
    const setup = await start({ spare: false, retry: { initialBackoffMs: 400, maxBackoffMs: 400 } });
    // The 429 fault always sends retry-after; a backend down with 429 sends none. It is lifted once it answered.
    setup.primary.setOutage({ mode: 'error', status: 429 });
    const answering = ask(setup);
    await eventually(() => setup.primary.stats.faults.outage === 1, 10_000, 'the 429');
    setup.primary.setOutage(undefined);

    const answer = await answering;
    expect(answer.completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(answer.deployment).toBe(PRIMARY);
    expect(answer.attempts).toBe(2);
    expect(setup.primary.stats.requests).toBe(2);
    // Backoff: between half and all of initialBackoffMs.
    expect(spreadMs(setup.primary)).toBeGreaterThanOrEqual(200);
    // Without retry-after no circuit opened: the next request goes straight to the deployment.
    expect((await ask(setup)).attempts).toBe(1);
    expect(setup.primary.stats.requests).toBe(3);
  });

  it('waits out a 429’s retry-after of 1 s, then succeeds on the same deployment', async () => {
    const setup = await start({ spare: false });
    setup.primary.injectFaults({ kind: 'rate_limit', retryAfterSeconds: 1 });

    const answer = await ask(setup);
    expect(answer.deployment).toBe(PRIMARY);
    expect(answer.attempts).toBe(2);
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(1_000);
    expect(answer.elapsedMs).toBeLessThan(1_000 + BUSY_MACHINE_SLACK_MS);
    expect(setup.primary.stats.requests).toBe(2);
    expect(spreadMs(setup.primary)).toBeGreaterThanOrEqual(1_000);
  });

  it('honours retry-after-ms to the millisecond, over retry-after', async () => {
    const setup = await start({ spare: false });
    // retry-after says 10 s: waiting on it instead would take 10 s, far past the slack.
    setup.primary.injectFaults({ kind: 'rate_limit', retryAfterSeconds: 10, retryAfterMs: 300 });

    const answer = await ask(setup);
    expect(answer.deployment).toBe(PRIMARY);
    expect(answer.attempts).toBe(2);
    expect(spreadMs(setup.primary)).toBeGreaterThanOrEqual(300);
    expect(spreadMs(setup.primary)).toBeLessThan(300 + BUSY_MACHINE_SLACK_MS);
  });

  it('passes a 429 whose retry-after ends after the deadline straight back, retry-after included', async () => {
    const setup = await start({ spare: false, retry: { deadlineMs: 20_000 } });
    setup.primary.injectFaults({ kind: 'rate_limit', retryAfterSeconds: 60 });

    const started = Date.now();
    const error = await captureApiError(ask(setup));
    // Straight back: waiting for the deadline instead would take 20 s.
    expect(Date.now() - started).toBeLessThan(BUSY_MACHINE_SLACK_MS);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.code).toBe('rate_limit_exceeded');
    expect(error.headers.get('retry-after')).toBe('60');
    expect(setup.primary.stats.requests).toBe(1);
  });

  it('retries a 500 once and succeeds', async () => {
    const setup = await start({ spare: false });
    setup.primary.injectFaults({ kind: 'server_error' });

    const answer = await ask(setup);
    expect(answer.deployment).toBe(PRIMARY);
    expect(answer.attempts).toBe(2);
    expect(setup.primary.stats.requests).toBe(2);
    expect(setup.primary.stats.faults).toEqual({ server_error: 1 });
    expect(spreadMs(setup.primary)).toBeGreaterThanOrEqual(100);
    const line = await accessLine(setup);
    expect(line).toMatchObject({ status: 200, attempts: 2, deployment: PRIMARY });
  });

  it('gives up on a 503 that never ends after `attempts` calls, and passes the 503 back', async () => {
    const setup = await start({ spare: false });
    setup.primary.injectFaults({ kind: 'unavailable', count: 100, retryAfterSeconds: 0 });

    const error = await captureApiError(ask(setup));
    expect(error.status).toBe(503);
    expect(error.headers.get('x-should-retry')).toBe('true');
    expect(setup.primary.stats.requests).toBe(3);
    const line = await accessLine(setup);
    expect(line).toMatchObject({ status: 503, attempts: 3, deployment: PRIMARY });
  });

  it('makes as many calls as the model’s own retry policy allows', async () => {
    // The model sets only attempts: the short backoffs come from the global policy, field by field.
    const setup = await start({
      spare: false,
      retry: { initialBackoffMs: 20, maxBackoffMs: 40 },
      configure: (config) => {
        modelRouting(config, MODEL, { retry: { attempts: 8 } });
        // Eight failures must not open the circuit and end the request first.
        config.breakers = { volumeThreshold: 100 };
      },
    });
    setup.primary.injectFaults({ kind: 'server_error', count: 100 });

    const started = Date.now();
    const error = await captureApiError(ask(setup));
    expect(error.status).toBe(500);
    expect(setup.primary.stats.requests).toBe(8);
    // Seven waits of at most 40 ms; the default policy's would take at least 125 + 250 + 500 + 1,000 + 3 × 2,000 ms.
    expect(Date.now() - started).toBeLessThan(7 * 40 + BUSY_MACHINE_SLACK_MS);
  });

  it('starts no attempt after the deadline', async () => {
    const setup = await start({
      spare: false,
      retry: { attempts: 20, initialBackoffMs: 100, maxBackoffMs: 100, deadlineMs: 700 },
      // Ten failures would open the circuit and end the request before its deadline does.
      configure: (config) => void (config.breakers = { volumeThreshold: 100 }),
    });
    setup.primary.injectFaults({ kind: 'server_error', count: 100 });

    const started = Date.now();
    const error = await captureApiError(ask(setup));
    expect(error.status).toBe(500);
    expect(Date.now() - started).toBeLessThan(700 + BUSY_MACHINE_SLACK_MS);
    // Waits of 50–100 ms within 700 ms: at most 14 calls, fewer than the 20 allowed (20 would take at least 950 ms of
    // waits alone); a retry was made. No call after the deadline, to the millisecond: attempts.test.ts.
    expect(setup.primary.stats.requests).toBeGreaterThanOrEqual(2);
    expect(setup.primary.stats.requests).toBeLessThan(20);
  });

  it('stops when the client disconnects during the backoff', async () => {
    const setup = await start({ spare: false, retry: { initialBackoffMs: 600, maxBackoffMs: 600 } });
    setup.primary.injectFaults({ kind: 'server_error', count: 100 });
    const controller = new AbortController();
    const call = setup.client.chat.completions.create({ model: MODEL, messages }, { signal: controller.signal });
    await eventually(() => setup.primary.stats.completed === 1, 10_000, 'the first call answered');
    controller.abort();
    await expect(call).rejects.toThrow(OpenAI.APIUserAbortError);
    const abortedAt = Date.now();

    const line = await accessLine(setup);
    expect(line).toMatchObject({ status: 499, attempts: 1, errorCode: 'client_closed' });
    // Not a wait for a state, the one fixed wait here: what must not happen is a second call once the backoff
    // (300–600 ms, maxBackoffMs) is over, and there is nothing to poll for the absence of a call.
    await new Promise((resolve) => setTimeout(resolve, 700 - (Date.now() - abortedAt)));
    expect(setup.primary.stats.requests).toBe(1);
  });
});

describe('waiting for a backend is not the backend failing', () => {
  it('does not count clients that leave before the first token against the backend', async () => {
    const setup = await start({
      spare: false,
      models: [{ id: MODEL, outputTokens: 20, firstTokenDelayMs: 3_000 }],
      timeouts: { firstTokenMs: 10_000 },
      configure: (config) => void (config.breakers = { volumeThreshold: 3 }),
    });
    const body = JSON.stringify({ model: MODEL, stream: true, messages });
    // The four leave once all four wait at the backend, well before its first token (3 s).
    const controllers = Array.from({ length: 4 }, () => new AbortController());
    const leaving = controllers.map((controller) =>
      fetch(`${setup.harness.gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: controller.signal,
      }).catch(() => undefined),
    );
    await eventually(() => setup.primary.stats.requests === 4, 10_000, 'four requests at the backend');
    for (const controller of controllers) controller.abort();
    await Promise.all(leaving);
    await eventually(() => setup.primary.stats.aborted === 4, 10_000, 'four aborted at the backend');

    const metrics = await (await fetch(`${setup.harness.gateway.url}/metrics`)).text();
    expect(metrics).not.toMatch(/dosrouter_upstream_errors_total\{[^}]*\} [1-9]/);
    await eventually(() => setup.harness.logs.accessLines().length >= 4, 10_000, 'four access lines');
    const lines = setup.harness.logs.accessLines();
    expect(lines.map((line) => [line.status, line.errorCode])).toEqual(Array.from({ length: 4 }, () => [499, 'client_closed']));
    // The circuit stayed closed: a patient client is answered at once by the same deployment.
    const read = await askStream(setup);
    expect(read.deployment).toBe(PRIMARY);
    expect(read.error).toBeUndefined();
  });
});

describe('failures before anything reached the client fail over to the other deployment', () => {
  it('fails over when the backend resets the connection', async () => {
    const setup = await start();
    setup.primary.injectFaults({ kind: 'reset' });

    expectFailedOver(setup, await ask(setup), 'reset');
  });

  it('fails over when no headers arrive within the first-byte deadline', async () => {
    const setup = await start({ timeouts: { firstByteMs: 300 } });
    setup.primary.injectFaults({ kind: 'hang' });

    const answer = await ask(setup);
    expectFailedOver(setup, answer, 'hang');
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(300);
    // undici checks header and body deadlines on a timer of about a second, so they can fire up to that much late.
    expect(answer.elapsedMs).toBeLessThan(300 + 1_000 + BUSY_MACHINE_SLACK_MS);
    // The gateway gave up on the hung request and closed it.
    await eventually(() => setup.primary.stats.aborted === 1, 10_000, 'the hung call closed');
  });

  it('fails over a stream whose first token is late, and the client sees one clean stream', async () => {
    const setup = await start({ timeouts: { firstTokenMs: 300, idleMs: 5_000 } });
    // The same request gets the same text from any simulator: this is the whole answer, once.
    const expected = (await ask(setup)).completion.choices[0]?.message.content;
    setup.primary.reset();
    setup.spare.reset();
    setup.primary.injectFaults({ kind: 'slow_first_token', delayMs: 10_000 });

    const read = await askStream(setup);
    expect(read.error).toBeUndefined();
    expectFailedOver(setup, read, 'slow_first_token');
    // The first-token deadline (300 ms), not the idle one (5 s) nor the slow token (10 s), moved the request on.
    expect(read.firstChunkMs).toBeGreaterThanOrEqual(300);
    expect(read.firstChunkMs).toBeLessThan(300 + 1_000 + BUSY_MACHINE_SLACK_MS);
    expect(read.content).toBe(expected);
    expect(read.chunks.filter((chunk) => chunk.choices[0]?.delta.role === 'assistant')).toHaveLength(1);
    expect(read.chunks.filter((chunk) => chunk.choices[0]?.finish_reason)).toHaveLength(1);
    await eventually(() => setup.primary.stats.aborted === 1, 10_000, 'the slow call closed');
  });

  it('fails over an empty 200 and bills only the answer that was delivered', async () => {
    const setup = await start();
    setup.primary.injectFaults({ kind: 'empty' });

    const answer = await ask(setup);
    expectFailedOver(setup, answer, 'empty');
    expect(answer.completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
    const usage = answer.completion.usage!;
    const cost = (usage.prompt_tokens * SPARE_PRICING.inputPerMTok + usage.completion_tokens * SPARE_PRICING.outputPerMTok) / 1_000_000;
    expect(answer.costUsd).toBeCloseTo(cost, 12);
    const line = await accessLine(setup);
    expect(line).toMatchObject({ deployment: SPARE, model: MODEL, attempts: 2, promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens });
    expect(line.costUsd).toBeCloseTo(cost, 12);
  });

  it('fails over a stream that finishes without a token', async () => {
    const setup = await start();
    setup.primary.injectFaults({ kind: 'empty' });

    const read = await askStream(setup);
    expect(read.error).toBeUndefined();
    expect(read.content.length).toBeGreaterThan(0);
    expectFailedOver(setup, read, 'empty');
  });

  it('fails over a stream whose malformed event comes before its first token', async () => {
    // With one token, the simulator slips the malformed event between the role chunk and that token.
    const setup = await start({ models: [{ id: MODEL, outputTokens: 1 }] });
    setup.primary.injectFaults({ kind: 'malformed_chunk' });

    const read = await askStream(setup);
    expect(read.error).toBeUndefined();
    expect(read.content.split(' ')).toHaveLength(20);
    expectFailedOver(setup, read, 'malformed_chunk');
  });

  it('skips a deployment whose 429 opened its circuit, for the time the backend asked', async () => {
    const setup = await start();
    setup.primary.injectFaults({ kind: 'rate_limit', retryAfterSeconds: 1 });

    const first = await ask(setup);
    expect(first.deployment).toBe(SPARE);
    expect(first.attempts).toBe(2);
    const second = await ask(setup);
    expect(second.deployment).toBe(SPARE);
    expect(second.attempts).toBe(1);
    expect(setup.primary.stats.requests).toBe(1);
    expect(setup.spare.stats.requests).toBe(2);

    await eventually(async () => (await ask(setup)).deployment === PRIMARY, 10_000, 'the primary back once its retry-after is over');
    // The primary's next call came once its retry-after was over, and not before.
    expect(setup.primary.stats.requests).toBe(2);
    expect(spreadMs(setup.primary)).toBeGreaterThanOrEqual(1_000);
  });

  it('tries the model’s deployments, then its fallbacks, in order, with retry.order: spread', async () => {
    const setup = await start({
      models: [
        { id: MODEL, outputTokens: 20 },
        { id: 'backup-model', outputTokens: 20 },
        { id: 'last-resort', outputTokens: 20 },
      ],
      configure: (config) => modelRouting(config, MODEL, { fallbacks: ['backup-model', 'last-resort'], retry: { attempts: 4, order: 'spread' } }),
    });
    setup.primary.injectFaults({ kind: 'server_error', model: MODEL });
    setup.spare.injectFaults({ kind: 'overloaded' });
    setup.primary.injectFaults({ kind: 'server_error', model: 'backup-model' });

    const answer = await ask(setup);
    expect(answer.completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(answer).toMatchObject({ deployment: 'sim/last-resort', attempts: 4 });
    const calls = setup.primary.recentRequests();
    expect(calls.map((call) => (call.body as { model: string }).model)).toEqual([MODEL, 'backup-model', 'last-resort']);
    // The spare's one call came between the primary's first two (timestamps are whole milliseconds, so ties count).
    const [spareCall] = setup.spare.recentRequests();
    expect(spareCall!.receivedAt).toBeGreaterThanOrEqual(calls[0]!.receivedAt);
    expect(spareCall!.receivedAt).toBeLessThanOrEqual(calls[1]!.receivedAt);
    expect(setup.spare.stats.requests).toBe(1);
  });
});

describe('context length', () => {
  // The simulator's own window (60 tokens) is smaller than the configured ones, so it is the backend that says no.
  const longPrompt = 'lorem '.repeat(100);
  const contextModels = (config: Config): void => {
    const models = config.backends[0]!.models as Record<string, unknown>[];
    for (const model of models) if (model.name !== 'large-model') model.contextWindow = 1_000;
    modelRouting(config, 'small-model', { fallbacks: ['large-model'] });
    modelRouting(config, 'peer-model', { fallbacks: ['small-model'] });
  };
  const models = [
    { id: 'small-model', contextWindow: 60 },
    { id: 'peer-model', contextWindow: 60 },
    { id: 'large-model' },
  ];

  it('goes on to a fallback with a larger window and never back to the deployment that was too small', async () => {
    const setup = await start({ spare: false, models, configure: contextModels });
    setup.primary.injectFaults({ kind: 'server_error', model: 'large-model' });

    const answer = await ask(setup, 'small-model', longPrompt);
    expect(answer.deployment).toBe('sim/large-model');
    expect(answer.attempts).toBe(3);
    // The transient 500 was retried on large-model; the context-length failure was not retried on small-model.
    expect(setup.primary.stats.byModel).toEqual({ 'small-model': 1, 'large-model': 2 });
  });

  it('passes the backend’s 400 context_length_exceeded back when no larger window is left', async () => {
    const setup = await start({ spare: false, models, configure: contextModels });

    const error = await captureApiError(ask(setup, 'peer-model', longPrompt));
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.code).toBe('context_length_exceeded');
    expect(error.message).toMatch(/maximum context length is 60 tokens/);
    // small-model, the fallback, has the same window: it is not tried.
    expect(setup.primary.stats.byModel).toEqual({ 'peer-model': 1 });
  });
});

describe('a content-policy rejection', () => {
  it('goes back to the client as the backend sent it, without a retry or a failover', async () => {
    const setup = await start();
    setup.primary.injectFaults({ kind: 'content_policy' });
    const direct = await captureApiError(
      new OpenAI({ apiKey: SIMULATOR_KEY, baseURL: setup.primary.baseUrl, maxRetries: 0 }).chat.completions.create({ model: MODEL, messages }),
    );
    setup.primary.reset();
    setup.primary.injectFaults({ kind: 'content_policy' });

    const error = await captureApiError(ask(setup));
    expect(error.status).toBe(400);
    expect(error.error).toEqual(direct.error);
    expect(error.code).toBe('content_policy_violation');
    expect(error.headers.get('x-should-retry')).toBe('false');
    expect(setup.primary.stats.requests).toBe(1);
    expect(setup.spare.stats.requests).toBe(0);
  });
});

describe('a stream that breaks after its first token, with routing.recovery: off', () => {
  const breaks = [
    { kind: 'stream_cut', message: /ended the stream before the answer was complete/ },
    { kind: 'stream_stall', message: /did not answer in time \(idle between chunks\)/ },
    { kind: 'malformed_chunk', message: /a malformed stream event/ },
  ] as const;

  for (const { kind, message } of breaks) {
    it(`ends with an error event after a ${kind}, never a truncated answer that looks complete`, async () => {
      // Tokens 5 ms apart: the first ones reach the client before the fault, as they would from a real model.
      const setup = await start({
        models: [{ id: MODEL, outputTokens: 20, interTokenDelayMs: 5 }],
        timeouts: { idleMs: 300 },
        configure: (config) => void ((config.routing as Record<string, unknown>).recovery = 'off'),
      });
      setup.primary.injectFaults({ kind, count: 2 });

      const read = await askStream(setup);
      expect(read.content.length).toBeGreaterThan(0);
      expect(read.error).toBeInstanceOf(OpenAI.APIError);
      expect(String((read.error as Error).message)).toMatch(message);
      expect(read.deployment).toBe(PRIMARY);

      const events = await rawStreamEvents(setup);
      expect(events).not.toContain('[DONE]');
      expect(events.length).toBeGreaterThan(1);
      expect(JSON.parse(events.at(-1)!)).toMatchObject({ error: { message: expect.stringMatching(message) } });
      // Without recovery nothing is retried once the client has tokens: two requests, two calls, none to the spare.
      expect(setup.primary.stats.faults).toEqual({ [kind]: 2 });
      expect(setup.spare.stats.requests).toBe(0);
    });
  }
});

describe('a backend that is down for a while', () => {
  it('serves every request from the other deployment during the outage, and traffic returns after it', async () => {
    // A real outage lasts minutes and a circuit cools down for 30 s; here the outage lasts 2.5 s and the cooldown 300 ms.
    const setup = await start({ configure: (config) => void (config.breakers = { cooldownMs: 300 }) });
    expect((await ask(setup)).deployment).toBe(PRIMARY);

    setup.primary.setOutage({ mode: 'reset' });
    const during: Answer[] = [];
    // At least 2.5 s (several cooldowns) and at least 30 requests, however slow each is on a busy machine.
    const outageEnds = Date.now() + 2_500;
    while (Date.now() < outageEnds || during.length < 30) during.push(await ask(setup));
    setup.primary.setOutage(undefined);

    expect(new Set(during.map((answer) => answer.deployment))).toEqual(new Set([SPARE]));
    expect(setup.primary.stats.faults.outage).toBeGreaterThan(0);
    // The failures opened its circuit: most requests skipped it rather than pay a failed attempt first.
    expect(during.filter((answer) => answer.attempts === 1).length).toBeGreaterThan(during.length / 2);

    const answeredBefore = setup.primary.stats.requests;
    let recovered: Answer | undefined;
    await eventually(async () => (recovered = await ask(setup)).deployment === PRIMARY, 10_000, 'traffic back on the primary');
    expect(recovered?.attempts).toBe(1);
    expect(setup.primary.stats.requests).toBeGreaterThan(answeredBefore);
    expect((await ask(setup)).deployment).toBe(PRIMARY);
  });
});
