import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatedModel, type Simulator } from '@dosrouter/provider-sim';
import { recordTestSecret } from '../../shared/src/test-support/log-archive.js';
import { SIMULATOR_KEY, accessLineOf, captureApiError, createClientKey, eventually, startHarness, type Harness } from './test-support/harness.js';

/**
 * Chat completions from the official `openai` client to a deployment of a `kind: anthropic` backend: the provider
 * simulator speaking Anthropic's Messages API. What the client gets must be a Chat Completions answer; what the
 * simulator received must be a Messages request.
 */

type Config = Record<string, unknown> & { backends: Record<string, unknown>[] };

const MODEL = 'claude-model';
const CLAUDE = `claude/${MODEL}`;
const OPENAI = `openai/${MODEL}`;
const ADMIN_KEY = `admin-${randomBytes(12).toString('hex')}`;
recordTestSecret(ADMIN_KEY);
const FAST_RETRY = { attempts: 3, initialBackoffMs: 50, maxBackoffMs: 100, deadlineMs: 5_000 };
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const WEATHER: ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'The weather now', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

interface Setup {
  readonly harness: Harness;
  /** The Anthropic-speaking simulator behind backend `claude`. */
  readonly claude: Simulator;
  /** An OpenAI-compatible simulator behind backend `openai` (when asked for), serving the same model name. */
  readonly openai: Simulator | undefined;
  readonly client: OpenAI;
}

const running: Setup[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map(({ harness, openai }) => Promise.all([harness.close(), openai?.close()])));
});

async function start(
  options: { openai?: boolean; anthropic?: Record<string, unknown>; models?: SimulatedModel[]; adminKey?: string; configure?: (config: Config) => void } = {},
): Promise<Setup> {
  const openai = options.openai ? await startSimulator({ models: [{ id: MODEL, outputTokens: 12 }], apiKey: SIMULATOR_KEY }) : undefined;
  const harness = await startHarness({
    models: options.models ?? [{ id: MODEL, outputTokens: 12 }],
    ...(options.adminKey ? { adminKey: options.adminKey } : {}),
    configure: (raw) => {
      const config = raw as Config;
      const claude = config.backends[0]!;
      // The harness's simulator, addressed as Anthropic's SDKs address the API: its origin.
      Object.assign(claude, { name: 'claude', kind: 'anthropic', baseUrl: new URL(claude.baseUrl as string).origin });
      const model = (claude.models as Record<string, unknown>[])[0]!;
      model.pricing = { inputPerMTok: 1, outputPerMTok: 2 };
      if (options.anthropic) model.anthropic = options.anthropic;
      if (openai) {
        config.backends.push({ name: 'openai', baseUrl: openai.baseUrl, apiKey: SIMULATOR_KEY, models: [{ name: MODEL, capabilities: ['streaming', 'tools', 'vision'], pricing: { inputPerMTok: 3, outputPerMTok: 6 } }] });
      }
      // Cheapest first: the Anthropic deployment, then the OpenAI one.
      config.routing = { strategy: 'cost', retry: FAST_RETRY, models: {} };
      // The first-token deadline must end before the retry deadline (a config rule).
      config.upstream = { timeouts: { firstTokenMs: 2_000 } };
      options.configure?.(config);
    },
  }).catch(async (error: unknown) => {
    await openai?.close();
    throw error;
  });
  const setup = { harness, claude: harness.simulator, openai, client: harness.client() };
  running.push(setup);
  return setup;
}

const lastMessagesRequest = (simulator: Simulator) => simulator.recentRequests().filter((request) => request.path === '/v1/messages').at(-1);

async function readStream(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

describe('chat completions to a native Anthropic deployment', () => {
  it('answers a plain request from a Messages request with system, max_tokens and the backend credential', async () => {
    const setup = await start();
    const { data, response } = await setup.client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello there' }], temperature: 0.5 })
      .withResponse();
    expect(response.headers.get('x-dosrouter-deployment')).toBe(CLAUDE);
    expect(data.object).toBe('chat.completion');
    expect(data.choices[0]!.message.content).toMatch(/\w+/);
    expect(data.choices[0]!.finish_reason).toBe('stop');
    expect(data.usage!.completion_tokens).toBe(12);
    expect(data.usage!.total_tokens).toBe(data.usage!.prompt_tokens + 12);
    // Reported usage: the access line has no usageEstimated flag.
    expect(await accessLineOf(setup.harness.logs, response)).toMatchObject({ completionTokens: 12 });
    expect(await accessLineOf(setup.harness.logs, response)).not.toHaveProperty('usageEstimated');
    const sent = lastMessagesRequest(setup.claude)!;
    expect(sent.headers).toMatchObject({ 'x-api-key': SIMULATOR_KEY, 'anthropic-version': '2023-06-01' });
    expect(sent.headers).not.toHaveProperty('authorization');
    expect(sent.body).toEqual({
      model: MODEL,
      max_tokens: 4096,
      system: [{ type: 'text', text: 'Be brief.' }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello there' }] }],
      temperature: 0.5,
    });
  });

  it('streams the same text as chunks, with a usage chunk when asked and [DONE]', async () => {
    const setup = await start();
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Stream me something' }];
    const whole = await setup.client.chat.completions.create({ model: MODEL, messages });
    const chunks = await readStream(await setup.client.chat.completions.create({ model: MODEL, messages, stream: true, stream_options: { include_usage: true } }));
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(whole.choices[0]!.message.content);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: whole.usage!.prompt_tokens, completion_tokens: 12 } });
    expect(lastMessagesRequest(setup.claude)!.body).toMatchObject({ stream: true });

    const withoutUsage = await readStream(await setup.client.chat.completions.create({ model: MODEL, messages, stream: true }));
    expect(withoutUsage.every((chunk) => chunk.usage === undefined || chunk.usage === null)).toBe(true);
    expect(withoutUsage.at(-1)!.choices[0]!.finish_reason).toBe('stop');
  });

  it('estimates the tokens of an answer and a stream whose Anthropic backend reported no usage, and marks them estimated', async () => {
    const setup = await start({ models: [{ id: MODEL, outputTokens: 12, reportsUsage: false }], adminKey: ADMIN_KEY });
    const key = await createClientKey(setup.harness.gateway.url, ADMIN_KEY, { name: 'no usage' });
    const client = new OpenAI({ apiKey: key.secret, baseURL: `${setup.harness.gateway.url}/v1`, maxRetries: 0, timeout: 20_000 });
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'How many tokens?' }];
    const whole = await client.chat.completions.create({ model: MODEL, messages }).withResponse();
    const streamed = await client.chat.completions.create({ model: MODEL, messages, stream: true, stream_options: { include_usage: true } }).withResponse();
    const chunks = await readStream(streamed.data);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
    for (const response of [whole.response, streamed.response]) {
      const line = await accessLineOf(setup.harness.logs, response);
      // Counted by the gateway from the text it relayed: nothing was reported, and zero would be wrong.
      expect(line['promptTokens']).toBeGreaterThan(0);
      expect(line['completionTokens']).toBeGreaterThanOrEqual(12);
      expect(line['usageEstimated']).toBe(true);
    }
    let totals: { requests: number; estimated_requests: number; completion_tokens: number } | undefined;
    await eventually(async () => {
      const answer = await fetch(`${setup.harness.gateway.url}/admin/usage?key=${key.id}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      const body = (await answer.json()) as { totals: NonNullable<typeof totals>; pending_records: number };
      totals = body.totals;
      return body.pending_records === 0 && totals.requests === 2;
    }, 10_000);
    expect(totals).toMatchObject({ requests: 2, estimated_requests: 2 });
    expect(totals!.completion_tokens).toBeGreaterThanOrEqual(24);
  });

  it('carries a tool call round trip: tool_use back as a tool call, the tool result as tool_result with its id', async () => {
    const setup = await start();
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const first = await setup.client.chat.completions.create({ model: MODEL, messages, tools: [WEATHER], tool_choice: 'required' });
    const call = first.choices[0]!.message.tool_calls![0]!;
    expect(first.choices[0]!.finish_reason).toBe('tool_calls');
    expect(call.id).toMatch(/^toolu_/);
    expect(call.type === 'function' && call.function.name).toBe('get_weather');
    const args = call.type === 'function' ? (JSON.parse(call.function.arguments) as Record<string, unknown>) : {};
    expect(typeof args.city).toBe('string');
    expect(lastMessagesRequest(setup.claude)!.body).toMatchObject({ tool_choice: { type: 'any' }, tools: [{ name: 'get_weather', input_schema: WEATHER.function.parameters }] });

    const streamed = await readStream(await setup.client.chat.completions.create({ model: MODEL, messages, tools: [WEATHER], tool_choice: 'required', stream: true }));
    const deltas = streamed.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(deltas[0]).toMatchObject({ index: 0, id: expect.stringMatching(/^toolu_/) as unknown, function: { name: 'get_weather' } });
    expect(JSON.parse(deltas.map((delta) => delta.function?.arguments ?? '').join(''))).toEqual(args);
    expect(streamed.at(-1)!.choices[0]!.finish_reason).toBe('tool_calls');

    const second = await setup.client.chat.completions.create({
      model: MODEL,
      tools: [WEATHER],
      messages: [...messages, first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: 'Sunny, 24 °C' }],
    });
    expect(second.choices[0]!.finish_reason).toBe('stop');
    expect(second.choices[0]!.message.content).toMatch(/\w+/);
    expect((lastMessagesRequest(setup.claude)!.body as { messages: unknown[] }).messages.slice(1)).toEqual([
      { role: 'assistant', content: [{ type: 'tool_use', id: call.id, name: 'get_weather', input: args }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: [{ type: 'text', text: 'Sunny, 24 °C' }] }] },
    ]);
  });

  it('sends images as base64 and URL sources', async () => {
    const setup = await start();
    const completion = await setup.client.chat.completions.create({
      model: MODEL,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare these' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
    });
    expect(completion.choices[0]!.message.content).toMatch(/\w+/);
    // The simulator counts an image as 1,600 input tokens.
    expect(completion.usage!.prompt_tokens).toBeGreaterThan(3_200);
    expect((lastMessagesRequest(setup.claude)!.body as { messages: { content: unknown[] }[] }).messages[0]!.content.slice(1)).toEqual([
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ]);
  });

  it('caches the system prompt when the deployment asks, and reports cache reads as cached prompt tokens', async () => {
    const setup = await start({ anthropic: { cache: { system: true } } });
    const system = 'You are a careful assistant who follows the house rules. '.repeat(120);
    const ask = () => setup.client.chat.completions.create({ model: MODEL, messages: [{ role: 'system', content: system }, { role: 'user', content: 'Hi' }] });
    const first = await ask();
    expect(lastMessagesRequest(setup.claude)!.body).toMatchObject({ system: [{ type: 'text', text: system, cache_control: { type: 'ephemeral' } }] });
    const second = await ask();
    expect(first.usage!.prompt_tokens_details?.cached_tokens).toBe(0);
    expect(second.usage!.prompt_tokens).toBe(first.usage!.prompt_tokens);
    expect(second.usage!.prompt_tokens_details?.cached_tokens).toBeGreaterThan(1_000);
    expect(second.usage).toMatchObject({ cache_read_input_tokens: second.usage!.prompt_tokens_details!.cached_tokens, cache_creation_input_tokens: 0 });
    expect(first.usage).toMatchObject({ cache_read_input_tokens: 0, cache_creation_input_tokens: second.usage!.prompt_tokens_details!.cached_tokens });
  });

  it('prices cache writes (the 1-hour price) and cache reads from the translated usage, streamed or not', async () => {
    const pricing = { inputPerMTok: 1, outputPerMTok: 2, cacheReadPerMTok: 0.1, cacheWritePerMTok: { '5m': 1.25, '1h': 2 } };
    const setup = await start({ anthropic: { cache: { system: true, ttl: '1h' } }, configure: (config) => Object.assign((config.backends[0]!.models as Record<string, unknown>[])[0]!, { pricing }) });
    const system = 'You answer questions about gateways and their caches. '.repeat(120);
    const messages: ChatCompletionMessageParam[] = [{ role: 'system', content: system }, { role: 'user', content: 'What is cached?' }];
    const costOf = (response: Response) => Number(response.headers.get('x-dosrouter-cost-usd'));

    const first = await setup.client.chat.completions.create({ model: MODEL, messages }).withResponse();
    const written = (first.data.usage as unknown as { cache_creation_input_tokens: number }).cache_creation_input_tokens;
    expect(written).toBeGreaterThan(1_000);
    expect(lastMessagesRequest(setup.claude)!.body).toMatchObject({ system: [{ cache_control: { type: 'ephemeral', ttl: '1h' } }] });
    const prompt = first.data.usage!.prompt_tokens;
    // Hand-computed: the uncached rest at $1, the 1-hour write at $2, 12 completion tokens at $2 (per million).
    expect(costOf(first.response)).toBeCloseTo(((prompt - written) * 1 + written * 2 + 12 * 2) / 1e6, 12);

    const repeat = await setup.client.chat.completions.create({ model: MODEL, messages }).withResponse();
    expect(repeat.data.usage!.prompt_tokens_details?.cached_tokens).toBe(written);
    const cachedCost = ((prompt - written) * 1 + written * 0.1 + 12 * 2) / 1e6;
    expect(costOf(repeat.response)).toBeCloseTo(cachedCost, 12);

    // Streamed without include_usage: the gateway reads the usage chunk it asked for, and records the cached price.
    const { data: stream, response } = await setup.client.chat.completions.create({ model: MODEL, messages, stream: true }).withResponse();
    await readStream(stream);
    let line: Record<string, unknown> | undefined;
    await eventually(() => (line = setup.harness.logs.accessLines().find((entry) => entry['requestId'] === response.headers.get('x-request-id'))) !== undefined, 10_000);
    expect(line).toMatchObject({ stream: true, promptTokens: prompt, cacheReadTokens: written, completionTokens: 12 });
    expect(line!['costUsd']).toBeCloseTo(cachedCost, 12);
  });

  it('turns reasoning_effort into thinking and returns it as reasoning_content', async () => {
    const setup = await start();
    const completion = await setup.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Think first' }], reasoning_effort: 'low', max_completion_tokens: 2_000 });
    expect(lastMessagesRequest(setup.claude)!.body).toMatchObject({ max_tokens: 2_000, thinking: { type: 'enabled', budget_tokens: 1_024 } });
    expect((completion.choices[0]!.message as unknown as { reasoning_content?: string }).reasoning_content).toMatch(/\w+/);
    expect(completion.choices[0]!.message.content).toMatch(/\w+/);
  });

  it('closes the Messages stream when the client leaves mid-answer', async () => {
    const setup = await start({ models: [{ id: MODEL, outputTokens: 400, interTokenDelayMs: 20 }] });
    const controller = new AbortController();
    const stream = await setup.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'A long one' }], stream: true }, { signal: controller.signal });
    let received = 0;
    await (async () => {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content && ++received === 3) controller.abort();
      }
    })().catch(() => undefined);
    expect(received).toBe(3);
    await eventually(() => setup.claude.stats.aborted === 1, 10_000, 'the Messages stream closed at the backend');
  });

  describe('when the Anthropic deployment fails', () => {
    it('fails over on 529 overloaded to the OpenAI deployment, and back when that one fails', async () => {
      const setup = await start({ openai: true });
      setup.claude.injectFaults({ kind: 'overloaded', count: 1 });
      const { data, response } = await setup.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
      expect(response.headers.get('x-dosrouter-deployment')).toBe(OPENAI);
      expect(response.headers.get('x-dosrouter-attempts')).toBe('2');
      expect(data.choices[0]!.message.content).toMatch(/\w+/);

      // A stream that fails on the Anthropic deployment before its first token is failed over too.
      setup.claude.injectFaults({ kind: 'server_error', count: 1 });
      const { data: stream, response: streamed } = await setup.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }], stream: true }).withResponse();
      expect(streamed.headers.get('x-dosrouter-deployment')).toBe(OPENAI);
      expect((await readStream(stream)).at(-1)!.choices[0]!.finish_reason).toBe('stop');
    });

    it('is tried after a failing OpenAI deployment', async () => {
      const setup = await start({ openai: true, configure: (config) => Object.assign(config.backends[0]!.models as Record<string, unknown>[], [{ ...(config.backends[0]!.models as Record<string, unknown>[])[0], pricing: { inputPerMTok: 9, outputPerMTok: 9 } }]) });
      setup.openai!.injectFaults({ kind: 'server_error', count: 1 });
      const { data, response } = await setup.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
      expect(response.headers.get('x-dosrouter-deployment')).toBe(CLAUDE);
      expect(data.choices[0]!.message.content).toMatch(/\w+/);
    });

    it('sends what Messages cannot say (n > 1) to the OpenAI deployment, and answers 400 when there is none', async () => {
      const withSpare = await start({ openai: true });
      const { data, response } = await withSpare.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }], n: 2 }).withResponse();
      expect(response.headers.get('x-dosrouter-deployment')).toBe(OPENAI);
      expect(data.choices).toHaveLength(2);
      expect(withSpare.claude.recentRequests().filter((request) => request.path === '/v1/messages')).toHaveLength(0);

      const alone = await start();
      const error = await captureApiError(alone.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }], n: 2 }));
      expect(error.status).toBe(400);
      expect(error.error).toMatchObject({ type: 'invalid_request_error', code: 'unsupported_by_deployment', param: 'n' });
    });

    it('maps its errors into OpenAI-shaped ones: 529 is a 503, a 400 stays a 400, a 429 keeps its retry-after and holds the circuit', async () => {
      const setup = await start({ configure: (config) => Object.assign(config, { routing: { strategy: 'cost', retry: { ...FAST_RETRY, attempts: 1 }, models: {} } }) });
      setup.claude.injectFaults({ kind: 'overloaded', count: 1 });
      const overloaded = await captureApiError(setup.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }] }));
      expect(overloaded.status).toBe(503);
      expect(overloaded.error).toMatchObject({ type: 'server_error', code: 'upstream_overloaded' });

      setup.claude.injectFaults({ kind: 'bad_request', count: 1 });
      const bad = await captureApiError(setup.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }] }));
      expect(bad.status).toBe(400);
      expect(bad.error).toMatchObject({ type: 'invalid_request_error' });

      setup.claude.injectFaults({ kind: 'rate_limit', count: 1, retryAfterSeconds: 7 });
      const limited = await captureApiError(setup.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }] }));
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('7');
      expect(limited.error).toMatchObject({ type: 'rate_limit_error' });
      // …and holds the deployment's circuit open for that long: the next request is not sent.
      const held = await captureApiError(setup.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }] }));
      expect(held.error).toMatchObject({ code: 'circuit_open' });
    });

    it("passes an error event in the middle of a Messages stream on as an OpenAI-shaped one, and records the failure", async () => {
      // Tokens 10 ms apart: the error event comes after the first token has gone out (one that arrives with the first
      // tokens, before anything was sent, is retried instead).
      const setup = await start({ models: [{ id: MODEL, outputTokens: 12, interTokenDelayMs: 10 }] });
      setup.claude.injectFaults({ kind: 'stream_error', count: 1 });
      const { data: stream, response } = await setup.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }], stream: true }).withResponse();
      const chunks: ChatCompletionChunk[] = [];
      const failure = await (async () => {
        for await (const chunk of stream) chunks.push(chunk);
      })().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toMatch(/\w+/);
      expect(failure).toBeInstanceOf(OpenAI.APIError);
      expect((failure as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ type: 'server_error', code: 'upstream_overloaded' });
      let line: Record<string, unknown> | undefined;
      await eventually(() => (line = setup.harness.logs.accessLines().find((entry) => entry['requestId'] === response.headers.get('x-request-id'))) !== undefined, 10_000);
      expect(line).toMatchObject({ deployment: CLAUDE, errorCode: 'upstream_stream_error' });
    });

    it('ends a stream that breaks after its first token with an OpenAI-shaped error event', async () => {
      const setup = await start();
      setup.claude.injectFaults({ kind: 'stream_cut', count: 1 });
      const stream = await setup.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }], stream: true });
      const failure = await readStream(stream).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(OpenAI.APIError);
      expect(String((failure as Error).message)).toMatch(/ended the stream before the answer was complete/);
    });
  });
});
