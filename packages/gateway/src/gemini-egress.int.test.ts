import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatedModel, type Simulator } from '@dosrouter/provider-sim';
import { SIMULATOR_KEY, captureApiError, eventually, startHarness, type Harness } from './test-support/harness.js';

/**
 * Chat completions from the official `openai` client, and Messages from the official `@anthropic-ai/sdk`, to a
 * deployment of a `kind: gemini` backend: the provider simulator speaking the Gemini API below /v1beta. What the
 * client gets must be its own protocol's answer; what the simulator received must be a generateContent request.
 */

type Config = Record<string, unknown> & { backends: Record<string, unknown>[] };

/** A Gemini 3 model: the simulator refuses a replayed function call without a thought signature, as Google does. */
const MODEL = 'gemini-3-flash';
const GEMINI = `google/${MODEL}`;
const OPENAI = `openai/${MODEL}`;
const FAST_RETRY = { attempts: 3, initialBackoffMs: 50, maxBackoffMs: 100, deadlineMs: 5_000 };
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const WEATHER: ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'The weather now', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

interface Setup {
  readonly harness: Harness;
  /** The simulator behind backend `google`, addressed at its Gemini API. */
  readonly google: Simulator;
  /** An OpenAI-compatible simulator behind backend `openai` (when asked for), serving the same model name. */
  readonly openai: Simulator | undefined;
  readonly client: OpenAI;
}

const running: Setup[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map(({ harness, openai }) => Promise.all([harness.close(), openai?.close()])));
});

async function start(options: { openai?: boolean; models?: SimulatedModel[]; configure?: (config: Config) => void } = {}): Promise<Setup> {
  const openai = options.openai ? await startSimulator({ models: [{ id: MODEL, outputTokens: 12 }], apiKey: SIMULATOR_KEY }) : undefined;
  const harness = await startHarness({
    models: options.models ?? [{ id: MODEL, outputTokens: 12 }],
    configure: (raw) => {
      const config = raw as Config;
      const google = config.backends[0]!;
      // The harness's simulator, addressed as Google's base URL is: the origin and the API version.
      Object.assign(google, { name: 'google', kind: 'gemini', baseUrl: `${new URL(google.baseUrl as string).origin}/v1beta` });
      const model = (google.models as Record<string, unknown>[])[0]!;
      model.pricing = { inputPerMTok: 1, outputPerMTok: 2 };
      model.capabilities = ['streaming', 'tools', 'vision', 'json_schema'];
      if (openai) {
        config.backends.push({ name: 'openai', baseUrl: openai.baseUrl, apiKey: SIMULATOR_KEY, models: [{ name: MODEL, capabilities: ['streaming', 'tools', 'vision'], pricing: { inputPerMTok: 3, outputPerMTok: 6 } }] });
      }
      // Cheapest first: the Gemini deployment, then the OpenAI one.
      config.routing = { strategy: 'cost', retry: FAST_RETRY, models: {} };
      config.upstream = { timeouts: { firstTokenMs: 2_000 } };
      options.configure?.(config);
    },
  }).catch(async (error: unknown) => {
    await openai?.close();
    throw error;
  });
  const setup = { harness, google: harness.simulator, openai, client: harness.client() };
  running.push(setup);
  return setup;
}

const lastGeminiRequest = (simulator: Simulator) => simulator.recentRequests().filter((request) => request.path.startsWith('/v1beta/models/')).at(-1);

async function readStream(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

describe('chat completions to a native Gemini deployment', () => {
  it('answers a plain request from a generateContent request with systemInstruction, generationConfig and x-goog-api-key', async () => {
    const setup = await start();
    const { data, response } = await setup.client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello there' }], temperature: 0.5, max_tokens: 100, stop: ['END'], seed: 7 })
      .withResponse();
    expect(response.headers.get('x-dosrouter-deployment')).toBe(GEMINI);
    expect(data.object).toBe('chat.completion');
    expect(data.choices[0]!.message.content).toMatch(/\w+/);
    expect(data.choices[0]!.finish_reason).toBe('stop');
    expect(data.usage!.completion_tokens).toBe(12);
    expect(data.usage!.total_tokens).toBe(data.usage!.prompt_tokens + 12);
    const sent = lastGeminiRequest(setup.google)!;
    expect(sent.path).toBe(`/v1beta/models/${MODEL}:generateContent`);
    expect(sent.headers).toMatchObject({ 'x-goog-api-key': SIMULATOR_KEY });
    expect(sent.headers).not.toHaveProperty('authorization');
    expect(sent.body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Hello there' }] }],
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      generationConfig: { stopSequences: ['END'], maxOutputTokens: 100, temperature: 0.5, seed: 7 },
    });
  });

  it('streams the same text as chunks, with a usage chunk when asked and [DONE]', async () => {
    const setup = await start();
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Stream me something' }];
    const whole = await setup.client.chat.completions.create({ model: MODEL, messages });
    const chunks = await readStream(await setup.client.chat.completions.create({ model: MODEL, messages, stream: true, stream_options: { include_usage: true } }));
    expect(lastGeminiRequest(setup.google)!.path).toBe(`/v1beta/models/${MODEL}:streamGenerateContent`);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(whole.choices[0]!.message.content);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: whole.usage!.prompt_tokens, completion_tokens: 12 } });

    const withoutUsage = await readStream(await setup.client.chat.completions.create({ model: MODEL, messages, stream: true }));
    expect(withoutUsage.every((chunk) => chunk.usage === undefined || chunk.usage === null)).toBe(true);
    expect(withoutUsage.at(-1)!.choices[0]!.finish_reason).toBe('stop');
  });

  it('carries a tool call over two turns: functionCall back as a tool call, the tool result as a functionResponse named after it', async () => {
    const setup = await start();
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const first = await setup.client.chat.completions.create({ model: MODEL, messages, tools: [WEATHER], tool_choice: { type: 'function', function: { name: 'get_weather' } } });
    const call = first.choices[0]!.message.tool_calls![0]!;
    expect(first.choices[0]!.finish_reason).toBe('tool_calls');
    expect(call.id).toMatch(/^call_/);
    expect(call.type === 'function' && call.function.name).toBe('get_weather');
    const args = call.type === 'function' ? (JSON.parse(call.function.arguments) as Record<string, unknown>) : {};
    expect(typeof args.city).toBe('string');
    expect(lastGeminiRequest(setup.google)!.body).toMatchObject({
      tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'The weather now', parametersJsonSchema: WEATHER.function.parameters }] }],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
    });

    const streamed = await readStream(await setup.client.chat.completions.create({ model: MODEL, messages, tools: [WEATHER], tool_choice: 'required', stream: true }));
    const deltas = streamed.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(deltas[0]).toMatchObject({ index: 0, id: expect.stringMatching(/^call_/) as unknown, function: { name: 'get_weather' } });
    expect(JSON.parse(deltas.map((delta) => delta.function?.arguments ?? '').join(''))).toEqual(args);
    expect(streamed.at(-1)!.choices[0]!.finish_reason).toBe('tool_calls');

    const second = await setup.client.chat.completions.create({
      model: MODEL,
      tools: [WEATHER],
      messages: [...messages, first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: 'Sunny, 24 °C' }],
    });
    expect(second.choices[0]!.finish_reason).toBe('stop');
    expect(second.choices[0]!.message.content).toMatch(/\w+/);
    expect((lastGeminiRequest(setup.google)!.body as { contents: unknown[] }).contents.slice(1)).toEqual([
      { role: 'model', parts: [{ functionCall: { name: 'get_weather', args }, thoughtSignature: 'skip_thought_signature_validator' }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { content: 'Sunny, 24 °C' } } }] },
    ]);
  });

  it('sends a data-URL image as inlineData and an http(s) image URL as fileData with its media type', async () => {
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
    // The simulator counts an image as 258 prompt tokens, as Gemini does.
    expect(completion.usage!.prompt_tokens).toBeGreaterThan(2 * 258);
    expect((lastGeminiRequest(setup.google)!.body as { contents: { parts: unknown[] }[] }).contents[0]!.parts.slice(1)).toEqual([
      { inlineData: { mimeType: 'image/png', data: PNG } },
      { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/cat.jpg' } },
    ]);

    const error = await captureApiError(
      setup.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/picture' } }] }] }),
    );
    expect(error.status).toBe(400);
    expect(error.error).toMatchObject({ code: 'unsupported_by_deployment', param: 'messages[0].content[0].image_url.url' });
  });

  it('asks for JSON-schema output with responseMimeType and responseJsonSchema, and returns a value of the schema', async () => {
    const setup = await start();
    const schema = { type: 'object', properties: { city: { type: 'string' }, temperature: { type: 'number' } }, required: ['city', 'temperature'], additionalProperties: false };
    const completion = await setup.client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Weather as JSON' }],
      response_format: { type: 'json_schema', json_schema: { name: 'weather', schema, strict: true } },
    });
    const value = JSON.parse(completion.choices[0]!.message.content!) as Record<string, unknown>;
    expect(typeof value.city).toBe('string');
    expect(typeof value.temperature).toBe('number');
    expect(lastGeminiRequest(setup.google)!.body).toMatchObject({ generationConfig: { responseMimeType: 'application/json', responseJsonSchema: schema } });
  });

  it('reports implicitly cached prompt tokens and thinking tokens, and prices cache reads at cacheReadPerMTok', async () => {
    const pricing = { inputPerMTok: 1, outputPerMTok: 2, cacheReadPerMTok: 0.25 };
    const setup = await start({ configure: (config) => Object.assign((config.backends[0]!.models as Record<string, unknown>[])[0]!, { pricing }) });
    const system = 'You answer questions about gateways and their caches. '.repeat(120);
    const messages: ChatCompletionMessageParam[] = [{ role: 'system', content: system }, { role: 'user', content: 'What is cached?' }];
    const costOf = (response: Response) => Number(response.headers.get('x-dosrouter-cost-usd'));

    const first = await setup.client.chat.completions.create({ model: MODEL, messages }).withResponse();
    expect(first.data.usage!.prompt_tokens_details?.cached_tokens).toBe(0);
    const prompt = first.data.usage!.prompt_tokens;
    expect(costOf(first.response)).toBeCloseTo((prompt * 1 + 12 * 2) / 1e6, 12);

    const repeat = await setup.client.chat.completions.create({ model: MODEL, messages }).withResponse();
    const cached = repeat.data.usage!.prompt_tokens_details!.cached_tokens!;
    expect(cached).toBeGreaterThan(1_000);
    expect(repeat.data.usage!.prompt_tokens).toBe(prompt);
    const cachedCost = ((prompt - cached) * 1 + cached * 0.25 + 12 * 2) / 1e6;
    expect(costOf(repeat.response)).toBeCloseTo(cachedCost, 12);

    // Streamed without include_usage: the gateway reads the usage Gemini's last event carried, and records the cached price.
    const { data: stream, response } = await setup.client.chat.completions.create({ model: MODEL, messages, stream: true }).withResponse();
    await readStream(stream);
    let line: Record<string, unknown> | undefined;
    await eventually(() => (line = setup.harness.logs.accessLines().find((entry) => entry['requestId'] === response.headers.get('x-request-id'))) !== undefined, 10_000);
    expect(line).toMatchObject({ stream: true, promptTokens: prompt, cacheReadTokens: cached, completionTokens: 12 });
    expect(line!['costUsd']).toBeCloseTo(cachedCost, 12);

    // reasoning_effort is a thinking budget; thinking tokens are completion tokens, and reported as reasoning tokens.
    const thought = await setup.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Think first' }], reasoning_effort: 'low' });
    expect(lastGeminiRequest(setup.google)!.body).toMatchObject({ generationConfig: { thinkingConfig: { thinkingBudget: 1_024 } } });
    expect(thought.usage).toMatchObject({ completion_tokens: 24, completion_tokens_details: { reasoning_tokens: 12 } });
  });

  it('estimates the tokens of an answer and a stream whose Gemini backend reported no usageMetadata', async () => {
    const setup = await start({ models: [{ id: MODEL, outputTokens: 12, reportsUsage: false }] });
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'How many tokens?' }];
    const whole = await setup.client.chat.completions.create({ model: MODEL, messages }).withResponse();
    const { data: stream, response } = await setup.client.chat.completions.create({ model: MODEL, messages, stream: true }).withResponse();
    expect((await readStream(stream)).at(-1)!.choices[0]!.finish_reason).toBe('stop');
    for (const id of [whole.response.headers.get('x-request-id'), response.headers.get('x-request-id')]) {
      let line: Record<string, unknown> | undefined;
      await eventually(() => (line = setup.harness.logs.accessLines().find((entry) => entry['requestId'] === id)) !== undefined, 10_000);
      // Counted by the gateway from the text it relayed: nothing was reported, and zero would be wrong.
      expect(line!['promptTokens']).toBeGreaterThan(0);
      expect(line!['completionTokens']).toBeGreaterThan(0);
    }
  });

  it('reaches a simulator: backend of kind gemini that the gateway starts itself, at its /v1beta base URL', async () => {
    const harness = await startHarness({
      models: [{ id: MODEL }],
      configure: (raw) => Object.assign(raw, { backends: [{ name: 'local', kind: 'gemini', simulator: { outputTokens: 5 }, models: [{ name: MODEL }] }] }),
    });
    running.push({ harness, google: harness.simulator, openai: undefined, client: harness.client() });
    const { data, response } = await harness.client().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
    expect(response.headers.get('x-dosrouter-deployment')).toBe(`local/${MODEL}`);
    expect(data.usage!.completion_tokens).toBe(5);
  });

  describe('when the Gemini deployment fails', () => {
    it('fails over on 503 UNAVAILABLE before the first token to the OpenAI deployment, streamed or not', async () => {
      const setup = await start({ openai: true });
      setup.google.injectFaults({ kind: 'unavailable', count: 1 });
      const { data, response } = await setup.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
      expect(response.headers.get('x-dosrouter-deployment')).toBe(OPENAI);
      expect(response.headers.get('x-dosrouter-attempts')).toBe('2');
      expect(data.choices[0]!.message.content).toMatch(/\w+/);

      setup.google.injectFaults({ kind: 'overloaded', count: 1 });
      const { data: stream, response: streamed } = await setup.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }], stream: true }).withResponse();
      expect(streamed.headers.get('x-dosrouter-deployment')).toBe(OPENAI);
      expect((await readStream(stream)).at(-1)!.choices[0]!.finish_reason).toBe('stop');
    });

    it('sends what Gemini cannot say (logprobs) to the OpenAI deployment, and answers 400 naming it when there is none', async () => {
      const withSpare = await start({ openai: true });
      const { response } = await withSpare.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }], logprobs: true }).withResponse();
      expect(response.headers.get('x-dosrouter-deployment')).toBe(OPENAI);
      expect(withSpare.google.recentRequests().filter((request) => request.path.startsWith('/v1beta/'))).toHaveLength(0);

      const alone = await start();
      const error = await captureApiError(alone.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }], logprobs: true }));
      expect(error.status).toBe(400);
      expect(error.error).toMatchObject({ type: 'invalid_request_error', code: 'unsupported_by_deployment', param: 'logprobs' });
    });

    it('maps its errors to OpenAI-shaped ones: INVALID_ARGUMENT a 400, UNAVAILABLE a 503, RESOURCE_EXHAUSTED a 429 that keeps its RetryInfo delay and holds the circuit', async () => {
      const setup = await start({ configure: (config) => Object.assign(config, { routing: { strategy: 'cost', retry: { ...FAST_RETRY, attempts: 1 }, models: {} } }) });
      setup.google.injectFaults({ kind: 'bad_request', count: 1 });
      const bad = await captureApiError(setup.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }] }));
      expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
      expect(bad.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_request' });

      setup.google.injectFaults({ kind: 'unavailable', count: 1 });
      const unavailable = await captureApiError(setup.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }] }));
      expect(unavailable).toBeInstanceOf(OpenAI.InternalServerError);
      expect(unavailable.status).toBe(503);
      expect(unavailable.error).toMatchObject({ type: 'server_error', code: 'upstream_overloaded' });

      setup.google.injectFaults({ kind: 'rate_limit', count: 1, retryAfterSeconds: 7 });
      const limited = await captureApiError(setup.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }] }));
      expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
      expect(limited.headers.get('retry-after')).toBe('7');
      expect(limited.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
      // …and holds the deployment's circuit open for that long: the next request is not sent.
      const held = await captureApiError(setup.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }] }));
      expect(held.error).toMatchObject({ code: 'circuit_open' });
    });

    it('reads a refused API key (400 API_KEY_INVALID) as the gateway credential refused, not as the client request at fault', async () => {
      const setup = await start({ configure: (config) => Object.assign(config.backends[0]!, { apiKey: 'AIza-wrong-key' }) });
      const error = await captureApiError(setup.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }] }));
      expect(error.status).toBe(502);
      expect(error.error).toMatchObject({ code: 'upstream_authentication_failed' });
      expect(error.message).not.toContain('AIza-wrong-key');
    });

    it('passes an UNAVAILABLE error in the middle of a stream on as an OpenAI-shaped error event', async () => {
      const setup = await start({ models: [{ id: MODEL, outputTokens: 12, interTokenDelayMs: 10 }] });
      setup.google.injectFaults({ kind: 'stream_error', count: 1 });
      const stream = await setup.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }], stream: true });
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
    });

    it('ends a stream that breaks after its first token with an OpenAI-shaped error event', async () => {
      const setup = await start({ models: [{ id: MODEL, outputTokens: 12, interTokenDelayMs: 10 }] });
      setup.google.injectFaults({ kind: 'stream_cut', count: 1 });
      const stream = await setup.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }], stream: true });
      const failure = await readStream(stream).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(OpenAI.APIError);
    });
  });
});

describe('Messages requests to a native Gemini deployment', () => {
  const anthropicClient = (setup: Setup) => new Anthropic({ apiKey: 'client-key-not-forwarded', baseURL: setup.harness.gateway.url, maxRetries: 0, timeout: 20_000 });

  it('answers a Messages request through Chat Completions and generateContent', async () => {
    const setup = await start();
    const message = await anthropicClient(setup).messages.create({ model: MODEL, max_tokens: 200, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello' }] });
    expect(message.type).toBe('message');
    expect(message.content[0]).toMatchObject({ type: 'text', text: expect.stringMatching(/\w+/) as unknown });
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.output_tokens).toBe(12);
    expect(lastGeminiRequest(setup.google)!.body).toMatchObject({
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      contents: [{ role: 'user', parts: [{ text: 'Hello' }] }],
      generationConfig: { maxOutputTokens: 200 },
    });
  });

  it('streams Messages events made from the Gemini stream, usage included', async () => {
    const setup = await start();
    const stream = anthropicClient(setup).messages.stream({ model: MODEL, max_tokens: 200, messages: [{ role: 'user', content: 'Stream please' }] });
    const texts: string[] = [];
    stream.on('text', (text) => texts.push(text));
    const final = await stream.finalMessage();
    expect(texts.join('')).toMatch(/\w+/);
    expect(final.content[0]).toMatchObject({ type: 'text', text: texts.join('') });
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage.output_tokens).toBe(12);
    expect(lastGeminiRequest(setup.google)!.path).toBe(`/v1beta/models/${MODEL}:streamGenerateContent`);
  });
});
