import OpenAI from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatedModel, type Simulator } from '@dosrouter/provider-sim';
import { configSchema, createLogger } from '@dosrouter/shared';
import { TEST_REDIS_URL } from '../../shared/src/test-support/redis.js';
import { startGateway, type RunningGateway } from './gateway.js';
import { startClusterHarness } from './test-support/cluster-harness.js';
import { LogCapture, SIMULATOR_KEY, eventually } from './test-support/harness.js';
import { HoldingBackend } from './test-support/holding-backend.js';

/**
 * Mid-stream recovery (#12) against the simulator's real faults, through the official client, in embedded mode and
 * in cluster mode (real Redis under a prefix of the test's own): a stream that breaks after text reached the client
 * is finished by another deployment in the same client stream, with nothing missing or repeated at the seam.
 */

const MODEL = 'chat-model';
const FALLBACK = 'other-model';
const PRIMARY = `sim/${MODEL}`;
const SPARE = `spare/${MODEL}`;
const TOKENS = 24;
const messages = [{ role: 'user' as const, content: 'Tell me a story.' }];
/** Generous bounds on the wall clock: a busy machine stretches every step; a failure to recover takes far longer. */
const TOTAL_BOUND_MS = 8_000;

type Mode = 'embedded' | 'cluster';

interface Setup {
  readonly primary: Simulator;
  readonly spare: Simulator;
  readonly client: OpenAI;
  readonly url: string;
  readonly logs: LogCapture;
  close(): Promise<void>;
}

const running: Setup[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((setup) => setup.close()));
});

/**
 * Backend `sim` (the primary, cheaper: the cost strategy tries it first) serves the model and its fallback; backend
 * `spare` serves the model too. Tokens come 2 ms apart, as from a real model.
 */
async function start(
  mode: Mode,
  options: {
    spare?: Partial<SimulatedModel>;
    primaryModels?: SimulatedModel[];
    routing?: Record<string, unknown>;
    idleMs?: number;
    /** Backend `sim` is this server instead of the primary simulator (which still starts, unused). */
    primaryUrl?: string;
    /** The `cache` section (off without it). */
    cache?: Record<string, unknown>;
  } = {},
): Promise<Setup> {
  const model = { outputTokens: TOKENS, interTokenDelayMs: 2 };
  const primary = await startSimulator({
    models: options.primaryModels ?? [{ id: MODEL, ...model }, { id: FALLBACK, ...model }],
    apiKey: SIMULATOR_KEY,
  });
  const spare = await startSimulator({ models: [{ id: MODEL, ...model, ...options.spare }], apiKey: SIMULATOR_KEY });
  const document: Record<string, unknown> = {
    logging: { level: 'info' },
    prober: { embedded: false },
    backends: [
      {
        name: 'sim',
        baseUrl: options.primaryUrl ?? primary.baseUrl,
        apiKey: SIMULATOR_KEY,
        timeouts: { idleMs: options.idleMs ?? 2_000 },
        models: [
          { name: MODEL, capabilities: ['streaming', 'tools'], pricing: { inputPerMTok: 1, outputPerMTok: 2 } },
          { name: FALLBACK, capabilities: ['streaming', 'tools'], pricing: { inputPerMTok: 1, outputPerMTok: 2 } },
        ],
      },
      { name: 'spare', baseUrl: spare.baseUrl, apiKey: SIMULATOR_KEY, models: [{ name: MODEL, capabilities: ['streaming', 'tools'], pricing: { inputPerMTok: 3, outputPerMTok: 7 } }] },
    ],
    routing: { strategy: 'cost', retry: { attempts: 3, initialBackoffMs: 100, maxBackoffMs: 200, deadlineMs: 6_000 }, ...options.routing },
    upstream: { timeouts: { firstTokenMs: 1_000 } },
    ...(options.cache ? { cache: options.cache } : {}),
  };
  const closeSimulators = () => Promise.all([primary.close(), spare.close()]);
  let gatewayUrl: string;
  let logs: LogCapture;
  let closeGateway: () => Promise<void>;
  if (mode === 'cluster') {
    const cluster = await startClusterHarness({ replicas: 1, redisUrl: TEST_REDIS_URL, document });
    gatewayUrl = cluster.gateways[0]!.url;
    logs = cluster.logs[0]!;
    closeGateway = () => cluster.close();
  } else {
    logs = new LogCapture();
    const gateway: RunningGateway = await startGateway({
      config: configSchema.parse(document),
      logger: createLogger({ level: 'info', service: 'gateway', destination: logs }),
      port: 0,
      host: '127.0.0.1',
    });
    gatewayUrl = gateway.url;
    closeGateway = async () => void (await gateway.close(1_000));
  }
  const setup: Setup = {
    primary,
    spare,
    url: gatewayUrl,
    logs,
    client: new OpenAI({ apiKey: 'client-key', baseURL: `${gatewayUrl}/v1`, maxRetries: 0, timeout: 20_000 }),
    close: async () => {
      await closeGateway();
      await closeSimulators();
    },
  };
  running.push(setup);
  return setup;
}

interface StreamRead {
  /** Epoch ms when the request was sent. */
  sentAt: number;
  chunks: ChatCompletionChunk[];
  content: string;
  error: unknown;
  elapsedMs: number;
  headers: Headers;
}

async function askStream(setup: Setup, body: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<StreamRead> {
  const started = Date.now();
  const { data: stream, response } = await setup.client.chat.completions
    .create({ model: MODEL, messages, stream: true, stream_options: { include_usage: true }, ...body } as OpenAI.ChatCompletionCreateParamsStreaming, { headers })
    .withResponse();
  const chunks: ChatCompletionChunk[] = [];
  const error = await (async () => {
    for await (const chunk of stream) chunks.push(chunk);
  })().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  const content = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
  return { sentAt: started, chunks, content, error, elapsedMs: Date.now() - started, headers: response.headers };
}

/** The raw SSE text of one streamed request through the gateway. */
async function rawStream(setup: Setup, body: Record<string, unknown> = {}): Promise<string> {
  const response = await fetch(`${setup.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer client-key' },
    body: JSON.stringify({ model: MODEL, messages, stream: true, ...body }),
  });
  return response.text();
}

/** The answer the model gives without any fault, asked of the simulator directly. */
async function canonicalAnswer(simulator: Simulator, model = MODEL): Promise<string[]> {
  const client = new OpenAI({ apiKey: SIMULATOR_KEY, baseURL: simulator.baseUrl, maxRetries: 0 });
  const stream = await client.chat.completions.create({ model, messages, stream: true });
  const pieces: string[] = [];
  for await (const chunk of stream) {
    const content = chunk.choices[0]?.delta.content;
    if (content) pieces.push(content);
  }
  simulator.reset();
  return pieces;
}

/** The one finish reason, the one role delta and the one id of a read stream. */
function shapeOf(read: StreamRead) {
  return {
    finishReasons: read.chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.finish_reason).filter((reason) => reason !== null)),
    roles: read.chunks.filter((chunk) => chunk.choices[0]?.delta.role !== undefined).length,
    ids: new Set(read.chunks.map((chunk) => chunk.id)).size,
    usageChunks: read.chunks.filter((chunk) => chunk.usage).length,
  };
}

const lastMessage = (simulator: Simulator) => {
  const body = simulator.recentRequests().at(-1)?.body as { messages: Array<{ role: string; content: string }> };
  return body.messages.at(-1);
};

describe.each(['embedded', 'cluster'] as const)('mid-stream recovery in %s mode', (mode) => {
  describe.each([
    { kind: 'stream_cut', cause: 'cut' },
    { kind: 'stream_stall', cause: 'stall' },
  ] as const)('when the stream breaks by a $kind after 5 tokens', ({ kind, cause }) => {
    it('finishes the answer on the other deployment by prefill: exact at the seam, one finish, one usage summing both', async () => {
      const setup = await start(mode, { idleMs: 300 });
      const canonical = await canonicalAnswer(setup.spare);
      setup.primary.injectFaults({ kind, afterTokens: 5 });

      const read = await askStream(setup);

      expect(read.error).toBeUndefined();
      expect(read.content).toBe(canonical.join(''));
      expect(shapeOf(read)).toEqual({ finishReasons: ['stop'], roles: 1, ids: 1, usageChunks: 1 });
      expect(read.headers.get('x-dosrouter-deployment')).toBe(PRIMARY);
      // The spare was asked to continue the five delivered tokens, and answered the other nineteen.
      expect(setup.primary.stats.requests).toBe(1);
      expect(setup.spare.stats.requests).toBe(1);
      expect(lastMessage(setup.spare)).toEqual({ role: 'assistant', content: canonical.slice(0, 5).join('') });
      const spareUsage = setup.spare.stats.usage;
      expect(spareUsage.completionTokens).toBe(TOKENS - 5);
      const usage = read.chunks.find((chunk) => chunk.usage)!.usage!;
      expect(usage.completion_tokens).toBeGreaterThan(spareUsage.completionTokens);
      expect(usage.prompt_tokens).toBeGreaterThan(spareUsage.promptTokens);
      expect(read.elapsedMs).toBeLessThan(TOTAL_BOUND_MS);

      await expect.poll(() => setup.logs.accessLines().at(-1), { timeout: 5_000 }).toMatchObject({ status: 200, deployment: SPARE, attempts: 2 });
      const access = setup.logs.accessLines().at(-1)!;
      expect(access).toMatchObject({ status: 200, deployment: SPARE, attempts: 2, recovered: [{ deployment: PRIMARY, cause }] });
      expect(access.errorCode).toBeUndefined();
      const metrics = await (await fetch(`${setup.url}/metrics`)).text();
      expect(metrics).toContain(`dosrouter_recovered_streams_total{cause="${cause}"} 1`);
    });
  });

  it('ends the raw stream with the attempts in a last comment event, then [DONE]', async () => {
    const setup = await start(mode);
    setup.primary.injectFaults({ kind: 'stream_cut', afterTokens: 3 });

    const text = await rawStream(setup);

    expect(text).toMatch(/: x-dosrouter-attempts: 2; recovered=sim\/chat-model:cut\n\ndata: \[DONE\]\n\n$/);
  });

  it('skips one malformed event when the stream goes on cleanly after it, without another attempt', async () => {
    const setup = await start(mode);
    const canonical = await canonicalAnswer(setup.primary);
    setup.primary.injectFaults({ kind: 'malformed_chunk', afterTokens: 3 });

    const read = await askStream(setup);

    expect(read.error).toBeUndefined();
    expect(read.content).toBe(canonical.join(''));
    expect(shapeOf(read).finishReasons).toEqual(['stop']);
    expect(setup.primary.stats.requests).toBe(1);
    expect(setup.spare.stats.requests).toBe(0);
  });

  it('abandons an attempt at its second malformed event and has the other deployment continue', async () => {
    const backend = new HoldingBackend(MODEL);
    const setup = await start(mode, { primaryUrl: await backend.listen() });
    running.push({ ...setup, close: () => backend.close() });
    const canonical = await canonicalAnswer(setup.spare);
    const chunk = (delta: Record<string, unknown>) =>
      `data: ${JSON.stringify({ id: 'chatcmpl-scripted', object: 'chat.completion.chunk', created: 1, model: MODEL, choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`;
    const opening = setup.client.chat.completions.create({ model: MODEL, messages, stream: true });
    await eventually(() => backend.held.length === 1, 10_000, 'the request held by the scripted backend');
    const response = backend.held.shift()!;
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.write(chunk({ role: 'assistant', content: '' }) + canonical.slice(0, 3).map((token) => chunk({ content: token })).join(''));
    const iterator = (await opening)[Symbol.asyncIterator]();
    const chunks: ChatCompletionChunk[] = [];
    const tokensRead = () => chunks.filter((entry) => entry.choices[0]?.delta.content).length;
    // Once the client has the first three tokens: a malformed event, two tokens; once it has those, another one.
    while (tokensRead() < 3) chunks.push((await iterator.next()).value as ChatCompletionChunk);
    response.write('data: {not json\n\n' + canonical.slice(3, 5).map((token) => chunk({ content: token })).join(''));
    while (tokensRead() < 5) chunks.push((await iterator.next()).value as ChatCompletionChunk);
    response.end('data: {not json either\n\n');
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) chunks.push(next.value);

    expect(chunks.map((entry) => entry.choices[0]?.delta.content ?? '').join('')).toBe(canonical.join(''));
    expect(new Set(chunks.map((entry) => entry.id))).toEqual(new Set(['chatcmpl-scripted']));
    expect(chunks.flatMap((entry) => entry.choices.map((choice) => choice.finish_reason).filter((reason) => reason !== null))).toEqual(['stop']);
    expect(lastMessage(setup.spare)).toEqual({ role: 'assistant', content: canonical.slice(0, 5).join('') });
    await expect.poll(() => setup.logs.accessLines().at(-1), { timeout: 5_000 }).toMatchObject({ recovered: [{ deployment: PRIMARY, cause: 'malformed' }] });
  });

  it('asks a backend that refuses the prefill again without it, and relays only what follows the delivered text', async () => {
    const setup = await start(mode, { spare: { rejectsPrefill: true } });
    const canonical = await canonicalAnswer(setup.spare);
    setup.primary.injectFaults({ kind: 'stream_cut', afterTokens: 7 });

    const read = await askStream(setup);

    expect(read.error).toBeUndefined();
    expect(read.content).toBe(canonical.join(''));
    expect(shapeOf(read)).toEqual({ finishReasons: ['stop'], roles: 1, ids: 1, usageChunks: 1 });
    // One refusal (400), one full answer of which the first seven tokens were dropped.
    expect(setup.spare.stats.requests).toBe(2);
    expect(lastMessage(setup.spare)?.role).toBe('user');
  });

  it('ends with the error event when a prefill-refusing fallback answers something else', async () => {
    const setup = await start(mode, {
      primaryModels: [
        { id: MODEL, outputTokens: TOKENS, interTokenDelayMs: 2 },
        { id: FALLBACK, outputTokens: TOKENS, interTokenDelayMs: 2, rejectsPrefill: true },
      ],
      // Attempts for: the cut, the spare's 503, the fallback's refusal of the prefill, its new answer.
      routing: { models: { [MODEL]: { fallbacks: [FALLBACK], retry: { attempts: 4, order: 'spread' } } } },
    });
    // The spare is out of the way: only the fallback model can continue.
    setup.spare.setOutage({ mode: 'error', status: 503 });
    setup.primary.injectFaults({ kind: 'stream_cut', afterTokens: 5, model: MODEL });

    const read = await askStream(setup);

    expect(read.content.length).toBeGreaterThan(0);
    expect(read.error).toBeInstanceOf(OpenAI.APIError);
    expect(String((read.error as Error).message)).toMatch(/does not start with the text already sent/);
    expect(shapeOf(read).finishReasons).toEqual([]);
    expect(setup.primary.stats.byModel).toEqual({ [MODEL]: 1, [FALLBACK]: 2 });
  });

  it('ends a stream cut inside a tool call with the error event, without another attempt', async () => {
    const setup = await start(mode);
    setup.primary.injectFaults({ kind: 'stream_cut', afterTokens: 2 });
    const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } } } } }];

    const text = await rawStream(setup, { tools });

    expect(text).toContain('"tool_calls"');
    expect(text).not.toContain('[DONE]');
    expect(text.trim().split('\n\n').at(-1)).toMatch(/^data: \{"error":/);
    expect(setup.spare.stats.requests).toBe(0);
  });

  it('leaves a model with recovery: off to end with the error event', async () => {
    const setup = await start(mode, { routing: { models: { [MODEL]: { recovery: 'off' } } } });
    setup.primary.injectFaults({ kind: 'stream_cut', afterTokens: 5 });

    const read = await askStream(setup);

    expect(read.error).toBeInstanceOf(OpenAI.APIError);
    expect(setup.spare.stats.requests).toBe(0);
  });

  it('leaves a request with n > 1 to end with the error event', async () => {
    const setup = await start(mode);
    setup.primary.injectFaults({ kind: 'stream_cut', afterTokens: 5 });

    const text = await rawStream(setup, { n: 2 });

    expect(text).not.toContain('[DONE]');
    expect(setup.spare.stats.requests).toBe(0);
  });
});

describe.each(['embedded', 'cluster'] as const)('retry order in %s mode', (mode) => {
  /** `other-model` (one deployment, on the primary) falls back to `chat-model`. */
  const withFallback = (order: 'model-first' | 'spread') => ({
    routing: { models: { [FALLBACK]: { fallbacks: [MODEL], retry: { order, attempts: 3, deadlineMs: 6_000 } } } },
  });

  it('model-first waits out a Retry-After: 1 on the requested model within the deadline', async () => {
    const setup = await start(mode, withFallback('model-first'));
    setup.primary.injectFaults({ kind: 'rate_limit', retryAfterSeconds: 1, model: FALLBACK });

    const read = await askStream(setup, { model: FALLBACK });

    expect(read.error).toBeUndefined();
    expect(read.headers.get('x-dosrouter-deployment')).toBe(`sim/${FALLBACK}`);
    expect(setup.primary.stats.byModel).toEqual({ [FALLBACK]: 2 });
    expect(setup.spare.stats.requests).toBe(0);
    // The wait was the backend's second, not a backoff (100–200 ms here).
    expect(read.elapsedMs).toBeGreaterThanOrEqual(1_000);
    expect(read.elapsedMs).toBeLessThan(TOTAL_BOUND_MS);
  });

  it('spread falls over to the fallback at once', async () => {
    const setup = await start(mode, withFallback('spread'));
    setup.primary.injectFaults({ kind: 'rate_limit', retryAfterSeconds: 1, model: FALLBACK });

    const read = await askStream(setup, { model: FALLBACK });

    expect(read.error).toBeUndefined();
    expect(read.headers.get('x-dosrouter-deployment')).toBe(PRIMARY);
    expect(setup.primary.stats.byModel).toEqual({ [FALLBACK]: 1, [MODEL]: 1 });
    // Not after the retry-after: a wait would have put the second call 1 s or more after the first.
    const [refused, answered] = setup.primary.recentRequests();
    expect(answered!.receivedAt - refused!.receivedAt).toBeLessThan(1_000);
  });

  it('model-first answers a 500 on the first attempt from the model\'s other deployment, not the fallback', async () => {
    const setup = await start(mode, { routing: { models: { [MODEL]: { fallbacks: [FALLBACK] } } } });
    setup.primary.injectFaults({ kind: 'server_error', model: MODEL });

    const read = await askStream(setup);

    expect(read.error).toBeUndefined();
    expect(read.headers.get('x-dosrouter-deployment')).toBe(SPARE);
    expect(setup.primary.stats.byModel).toEqual({ [MODEL]: 1 });
    expect(setup.spare.stats.requests).toBe(1);
  });
});

describe.each(['embedded', 'cluster'] as const)('hedged requests in %s mode', (mode) => {
  const hedged = {
    routing: {
      models: { [MODEL]: { hedge: { afterMs: 200 } } },
      sideEffects: [{ headers: { 'x-side-effects': '^yes$' } }],
    },
  };

  it('starts the same request on the other deployment once the threshold passes, and aborts the loser', async () => {
    const setup = await start(mode, hedged);
    const canonical = await canonicalAnswer(setup.spare);
    setup.primary.injectFaults({ kind: 'slow_first_token', delayMs: 3_000 });

    const read = await askStream(setup);

    expect(read.error).toBeUndefined();
    expect(read.content).toBe(canonical.join(''));
    expect(shapeOf(read)).toEqual({ finishReasons: ['stop'], roles: 1, ids: 1, usageChunks: 1 });
    expect(read.headers.get('x-dosrouter-deployment')).toBe(SPARE);
    expect(read.headers.get('x-dosrouter-attempts')).toBe('2');
    // The hedge started only after the threshold, and the slow primary saw its request aborted.
    const [hedge] = setup.spare.recentRequests();
    expect(hedge!.receivedAt - read.sentAt).toBeGreaterThanOrEqual(200);
    await expect.poll(() => setup.primary.stats.aborted, { timeout: 5_000 }).toBe(1);
    expect(read.elapsedMs).toBeLessThan(3_000);

    const metrics = await (await fetch(`${setup.url}/metrics`)).text();
    expect(metrics).toContain('dosrouter_hedged_requests_total{winner="hedge"} 1');
    await expect.poll(() => setup.logs.accessLines().at(-1), { timeout: 5_000 }).toMatchObject({ deployment: SPARE, attempts: 2, hedgedOut: [PRIMARY] });
  });

  it('does not hedge a request that answers before the threshold', async () => {
    const setup = await start(mode, hedged);

    const read = await askStream(setup);

    expect(read.headers.get('x-dosrouter-deployment')).toBe(PRIMARY);
    expect(setup.spare.stats.requests).toBe(0);
  });

  it('never hedges a request the config marks as having side effects', async () => {
    const setup = await start(mode, hedged);
    setup.primary.injectFaults({ kind: 'slow_first_token', delayMs: 600 });

    const read = await askStream(setup, {}, { 'x-side-effects': 'yes' });

    expect(read.error).toBeUndefined();
    expect(read.headers.get('x-dosrouter-deployment')).toBe(PRIMARY);
    expect(setup.spare.stats.requests).toBe(0);
  });
});

describe('mid-stream recovery and a shared stream (in-flight de-duplication)', () => {
  it('continues the leader’s broken stream by recovery, and its followers take the answer over: each gets it whole', async () => {
    // Tokens 100 ms apart: the followers join the leader's flight before its stream breaks.
    const slow = { outputTokens: TOKENS, interTokenDelayMs: 100 };
    const setup = await start('embedded', {
      primaryModels: [{ id: MODEL, ...slow }],
      spare: slow,
      cache: { enabled: true, models: [MODEL] },
    });
    const canonical = (await canonicalAnswer(setup.primary)).join('');
    setup.primary.injectFaults({ kind: 'stream_cut', afterTokens: 4 });
    const body = { temperature: 0 };
    const leader = askStream(setup, body);
    await eventually(() => setup.primary.stats.requests === 1, 10_000, 'the leader’s request at the backend');
    const followers = await Promise.all([0, 1].map(() => askStream(setup, body)));
    const led = await leader;
    // The leader's client: recovery's continuation on the spare, by prefill.
    expect(led.error).toBeUndefined();
    expect(led.content).toBe(canonical);
    expect(setup.spare.stats.requests).toBeGreaterThanOrEqual(1);
    expect(lastMessage(setup.spare)?.role).toBe('assistant');
    for (const follower of followers) {
      expect(follower.error).toBeUndefined();
      expect(follower.content).toBe(canonical);
      expect(shapeOf(follower)).toEqual({ finishReasons: ['stop'], roles: 1, ids: 1, usageChunks: 1 });
    }
    // Each follower asked again for the whole answer (replay, never a prefill), and skipped what it had.
    const replays = [...setup.primary.recentRequests(), ...setup.spare.recentRequests()].filter((request) => (request.body as { messages: unknown[] }).messages.length === 1);
    expect(replays).toHaveLength(1 + followers.length);
  });
});
