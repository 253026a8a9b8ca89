import { randomBytes } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordTestSecret } from '../../shared/src/test-support/log-archive.js';
import { outputText, weatherTool } from './test-support/responses-fixtures.js';
import { accessLineOf, createClientKey, eventually, startHarness, type Harness } from './test-support/harness.js';

const ADMIN_KEY = `admin-${randomBytes(12).toString('hex')}`;
recordTestSecret(ADMIN_KEY);
const MODEL = 'sim-model';
const OUTPUT_TOKENS = 12;
/** $1 per million prompt tokens, $2 per million completion tokens. */
const PRICING = { inputPerMTok: 1, outputPerMTok: 2 };

type Api = 'chat' | 'responses';

/** The request bodies the simulator received on the path the deployment's API calls, newest last. */
function sentBodies(harness: Harness, api: Api): Record<string, unknown>[] {
  const path = api === 'chat' ? '/v1/chat/completions' : '/v1/responses';
  return harness.simulator
    .recentRequests()
    .filter((request) => request.path === path)
    .map((request) => request.body as Record<string, unknown>);
}

// The official OpenAI SDK's `client.responses` against the gateway, its deployments simulators of each API: Chat
// Completions (every request translated, every answer back) and Responses (passed through untranslated). What each
// API's backend receives, failover and errors; the scenarios every backend kind must serve (streamed events, the
// stream helper, JSON schema, the cache) are in responses-matrix.int.test.ts.
describe.each<Api>(['chat', 'responses'])('POST /v1/responses to an api: %s deployment', (api) => {
  let harness: Harness;
  let client: OpenAI;
  beforeAll(async () => {
    harness = await startHarness({
      adminKey: ADMIN_KEY,
      models: [{ id: MODEL, outputTokens: OUTPUT_TOKENS }],
      configure: (config) => {
        const backends = config.backends as Record<string, unknown>[];
        const primary = backends[0]!;
        primary.api = api;
        for (const model of primary.models as Record<string, unknown>[]) Object.assign(model, { pricing: PRICING, capabilities: ['streaming', 'tools', 'json_schema'] });
        // A second deployment of the model on the same simulator, for failover.
        backends.push({ ...primary, name: 'spare' });
        config.routing = { strategy: 'round-robin', retry: { attempts: 2, initialBackoffMs: 1, maxBackoffMs: 1, deadlineMs: 60_000 } };
      },
    });
    const { secret } = await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'responses-sdk' });
    client = new OpenAI({ apiKey: secret, baseURL: `${harness.gateway.url}/v1`, maxRetries: 0, timeout: 20_000 });
  });
  afterAll(() => harness.close());

  it('answers a text request as a Response, with usage and the cost header', async () => {
    harness.simulator.reset();
    const { data: response, response: http } = await client.responses
      .create({ model: MODEL, instructions: 'Be brief.', input: 'Say hello.', metadata: { ticket: 'T-1' } })
      .withResponse();
    expect(response.object).toBe('response');
    expect(response.id).toMatch(/^resp_/);
    expect(response.status).toBe('completed');
    expect(response.output_text.length).toBeGreaterThan(0);
    expect(response.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text' }] });
    expect(response.metadata).toEqual({ ticket: 'T-1' });
    expect(response.usage).toMatchObject({ output_tokens: OUTPUT_TOKENS, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } });
    expect(response.usage!.total_tokens).toBe(response.usage!.input_tokens + OUTPUT_TOKENS);
    const cost = Number(http.headers.get('x-dosrouter-cost-usd'));
    expect(cost).toBeCloseTo((response.usage!.input_tokens * PRICING.inputPerMTok + OUTPUT_TOKENS * PRICING.outputPerMTok) / 1e6, 12);
    // The access line names the route and carries the usage the Response reports.
    expect(await accessLineOf(harness.logs, http)).toMatchObject({ route: '/v1/responses', promptTokens: response.usage!.input_tokens, completionTokens: OUTPUT_TOKENS });
    const [sent] = sentBodies(harness, api);
    if (api === 'chat') {
      expect(sent).toMatchObject({ model: MODEL, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello.' }] });
      expect(sent).not.toHaveProperty('metadata');
    } else {
      expect(sent).toEqual({ model: MODEL, instructions: 'Be brief.', input: 'Say hello.', metadata: { ticket: 'T-1' } });
    }
  });

  it('calls a function and takes its output back in a second turn', async () => {
    const first = await client.responses.create({ model: MODEL, input: 'Weather in Paris?', tools: [weatherTool], tool_choice: 'required' });
    const call = first.output.find((item) => item.type === 'function_call')!;
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed' });
    expect(JSON.parse(call.arguments)).toHaveProperty('city');
    const stream = client.responses.stream({
      model: MODEL,
      tools: [weatherTool],
      input: [
        { role: 'user', content: 'Weather in Paris?' },
        { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
        { type: 'function_call_output', call_id: call.call_id, output: '{"temperature":21}' },
      ],
    });
    const second = await stream.finalResponse();
    expect(outputText(second).length).toBeGreaterThan(0);
    const sent = sentBodies(harness, api).at(-1)!;
    if (api === 'chat') {
      expect(sent.messages).toEqual([
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [{ id: call.call_id, type: 'function', function: { name: 'get_weather', arguments: call.arguments } }] },
        { role: 'tool', tool_call_id: call.call_id, content: '{"temperature":21}' },
      ]);
    } else {
      expect((sent.input as unknown[])[2]).toEqual({ type: 'function_call_output', call_id: call.call_id, output: '{"temperature":21}' });
    }
  });

  it('answers in JSON that follows text.format json_schema', async () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' }, confidence: { type: 'number' } }, required: ['answer', 'confidence'], additionalProperties: false };
    const response = await client.responses.create({ model: MODEL, input: 'Answer in JSON.', text: { format: { type: 'json_schema', name: 'answer', schema, strict: true } } });
    const parsed = JSON.parse(response.output_text) as Record<string, unknown>;
    expect(typeof parsed.answer).toBe('string');
    expect(typeof parsed.confidence).toBe('number');
    if (api === 'chat') {
      expect(sentBodies(harness, api).at(-1)!.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } });
    }
  });

  it('records usage and cost of a streamed answer', async () => {
    const key = await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'usage-check' });
    const own = new OpenAI({ apiKey: key.secret, baseURL: `${harness.gateway.url}/v1`, maxRetries: 0 });
    const final = await own.responses.stream({ model: MODEL, input: 'Tell me something.' }).finalResponse();
    const promptTokens = final.usage!.input_tokens;
    const expectedCost = (promptTokens * PRICING.inputPerMTok + OUTPUT_TOKENS * PRICING.outputPerMTok) / 1e6;
    await eventually(async () => {
      const response = await fetch(`${harness.gateway.url}/v1/usage`, { headers: { authorization: `Bearer ${key.secret}` } });
      const usage = (await response.json()) as { totals: { requests: number; prompt_tokens: number; completion_tokens: number; cost_usd: number } };
      if (usage.totals.requests !== 1) return false;
      expect(usage.totals).toMatchObject({ prompt_tokens: promptTokens, completion_tokens: OUTPUT_TOKENS });
      expect(usage.totals.cost_usd).toBeCloseTo(expectedCost, 12);
      return true;
    }, 10_000);
  });

  it('raises errors as the SDK classes', async () => {
    const invalid = await client.responses.create({ model: MODEL, input: 'x', tools: [{ type: 'web_search' }] }).catch((error: unknown) => error);
    expect(invalid).toBeInstanceOf(OpenAI.BadRequestError);
    expect((invalid as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('tools[0].type');
    const missing = await client.responses.create({ model: MODEL } as OpenAI.Responses.ResponseCreateParamsNonStreaming).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(OpenAI.BadRequestError);
    expect((missing as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('input');
    const previous = await client.responses.create({ model: MODEL, input: 'x', previous_response_id: 'resp_unknown' }).catch((error: unknown) => error);
    expect(previous).toBeInstanceOf(OpenAI.BadRequestError);
    expect((previous as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('previous_response_id');
    const unauthenticated = new OpenAI({ apiKey: 'not-a-key', baseURL: `${harness.gateway.url}/v1`, maxRetries: 0 });
    await expect(unauthenticated.responses.create({ model: MODEL, input: 'x' })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const limited = await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'one-a-minute', limits: { requestsPerMinute: 1 } });
    const own = new OpenAI({ apiKey: limited.secret, baseURL: `${harness.gateway.url}/v1`, maxRetries: 0 });
    await own.responses.create({ model: MODEL, input: 'x' });
    await expect(own.responses.create({ model: MODEL, input: 'x' })).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    // The backend's own refusal reaches the client as the same class.
    harness.simulator.injectFaults({ kind: 'bad_request', count: 2 });
    const refused = await client.responses.create({ model: MODEL, input: 'x' }).catch((error: unknown) => error);
    harness.simulator.clearFaults();
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('answers 400, not 500, to an enum field sent as an object that cannot be made a string', async () => {
    // JSON can carry an own `toString` that is not a function: String(value) throws on it.
    const unprintable = { toString: 1 } as unknown as 'low';
    const image = await client.responses
      .create({ model: MODEL, input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'https://example.com/a.png', detail: unprintable }] }] })
      .catch((error: unknown) => error);
    expect(image).toBeInstanceOf(OpenAI.BadRequestError);
    expect((image as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('input[0].content[0].detail');
    const verbosity = await client.responses.create({ model: MODEL, input: 'x', text: { verbosity: unprintable } }).catch((error: unknown) => error);
    expect(verbosity).toBeInstanceOf(OpenAI.BadRequestError);
    expect((verbosity as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('text.verbosity');
  });

  it('fails over before the first event: the client sees one clean stream', async () => {
    harness.simulator.injectFaults({ kind: 'server_error', count: 1 });
    const { data: stream, response } = await client.responses.create({ model: MODEL, input: 'Again.', stream: true }).withResponse();
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(response.headers.get('x-dosrouter-attempts')).toBe('2');
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    expect(types.filter((type) => type === 'response.created')).toHaveLength(1);
  });

  it('ends a stream cut after its first event with an error event', async () => {
    harness.simulator.injectFaults({ kind: 'stream_cut', count: 2 });
    const stream = await client.responses.create({ model: MODEL, input: 'Cut me off.', stream: true });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    harness.simulator.clearFaults();
    expect(types.at(-1)).toBe('error');
    expect(types).not.toContain('response.completed');
    if (api === 'chat') expect(types.at(-2)).toBe('response.failed');
    // The SDK's stream helper rejects: no final response that looks complete.
    harness.simulator.injectFaults({ kind: 'stream_cut', count: 2 });
    const helper = client.responses.stream({ model: MODEL, input: 'Cut me off again.' });
    const outcome = await helper.finalResponse().then(
      () => 'resolved',
      () => 'rejected',
    );
    harness.simulator.clearFaults();
    expect(outcome).toBe('rejected');
  });
});

// Chat completions and Messages requests routed to a Responses API deployment: translated to /v1/responses, the
// Response (whole or streamed) translated back.
describe('chat completions and Messages to an api: responses deployment', () => {
  let harness: Harness;
  let client: OpenAI;
  beforeAll(async () => {
    harness = await startHarness({
      models: [{ id: MODEL, outputTokens: OUTPUT_TOKENS }],
      configure: (config) => {
        const primary = (config.backends as Record<string, unknown>[])[0]!;
        primary.api = 'responses';
        for (const model of primary.models as Record<string, unknown>[]) Object.assign(model, { pricing: PRICING, capabilities: ['streaming', 'tools', 'json_schema'] });
      },
    });
    client = harness.client();
  });
  afterAll(() => harness.close());

  it('answers a chat completion from a Response, with its usage and cost', async () => {
    harness.simulator.reset();
    const { data: completion, response } = await client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello.' }], max_tokens: 50 })
      .withResponse();
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]).toMatchObject({ finish_reason: 'stop', message: { role: 'assistant' } });
    expect(completion.choices[0]!.message.content!.length).toBeGreaterThan(0);
    expect(completion.usage).toMatchObject({ completion_tokens: OUTPUT_TOKENS });
    const cost = Number(response.headers.get('x-dosrouter-cost-usd'));
    expect(cost).toBeCloseTo((completion.usage!.prompt_tokens * PRICING.inputPerMTok + OUTPUT_TOKENS * PRICING.outputPerMTok) / 1e6, 12);
    expect(sentBodies(harness, 'responses').at(-1)).toEqual({
      model: MODEL,
      input: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello.' }],
      store: false,
      max_output_tokens: 50,
    });
  });

  it('streams a chat completion from a Response stream, the usage chunk only when asked for', async () => {
    const withUsage = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Stream.' }], stream: true, stream_options: { include_usage: true } });
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const chunk of withUsage) chunks.push(chunk);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('').length).toBeGreaterThan(0);
    expect(chunks.find((chunk) => chunk.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)?.usage).toMatchObject({ completion_tokens: OUTPUT_TOKENS });
    const withoutUsage = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Stream.' }], stream: true });
    const plain: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const chunk of withoutUsage) plain.push(chunk);
    expect(plain.some((chunk) => chunk.usage)).toBe(false);
  });

  it('carries a tool call and its result over two chat turns', async () => {
    const tool: OpenAI.Chat.ChatCompletionTool = { type: 'function', function: { name: 'get_weather', parameters: weatherTool.parameters! } };
    const first = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Weather in Rome?' }], tools: [tool], stream: true });
    const calls: string[] = [];
    let id = '';
    for await (const chunk of first) {
      const call = chunk.choices[0]?.delta.tool_calls?.[0];
      if (call?.id) id = call.id;
      if (call?.function?.arguments) calls.push(call.function.arguments);
    }
    expect(JSON.parse(calls.join(''))).toHaveProperty('city');
    const second = await client.chat.completions.create({
      model: MODEL,
      tools: [tool],
      messages: [
        { role: 'user', content: 'Weather in Rome?' },
        { role: 'assistant', content: null, tool_calls: [{ id, type: 'function', function: { name: 'get_weather', arguments: calls.join('') } }] },
        { role: 'tool', tool_call_id: id, content: 'sunny' },
      ],
    });
    expect(second.choices[0]!.finish_reason).toBe('stop');
    expect((sentBodies(harness, 'responses').at(-1)!.input as unknown[]).slice(1)).toEqual([
      { type: 'function_call', call_id: id, name: 'get_weather', arguments: calls.join('') },
      { type: 'function_call_output', call_id: id, output: 'sunny' },
    ]);
  });

  it('refuses what the Responses API cannot carry, naming the field', async () => {
    const error = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], stop: ['END'] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('stop');
  });

  it('answers a Messages request (the Anthropic SDK) from a Response stream', async () => {
    const anthropic = new Anthropic({ apiKey: 'open-mode', baseURL: harness.gateway.url, maxRetries: 0 });
    const message = await anthropic.messages.stream({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'Hello.' }] }).finalMessage();
    expect(message.stop_reason).toBe('end_turn');
    expect(message.content[0]).toMatchObject({ type: 'text' });
    expect(message.usage.output_tokens).toBe(OUTPUT_TOKENS);
    expect(sentBodies(harness, 'responses').at(-1)).toMatchObject({ model: MODEL, stream: true, max_output_tokens: 100 });
  });
});

// One model on two deployments that speak different APIs: failing over between them is an ordinary failover, before
// the first event, and the client's stream is in the protocol it asked for either way.
describe('failover between an api: responses and an api: chat deployment', () => {
  let harness: Harness;
  let client: OpenAI;
  beforeAll(async () => {
    harness = await startHarness({
      models: [{ id: MODEL, outputTokens: OUTPUT_TOKENS }],
      configure: (config) => {
        const backends = config.backends as Record<string, unknown>[];
        const primary = backends[0]!;
        primary.api = 'responses';
        backends.push({ ...primary, name: 'chat-spare', api: 'chat' });
        config.routing = { strategy: 'round-robin', retry: { attempts: 2, initialBackoffMs: 1, maxBackoffMs: 1, deadlineMs: 60_000 } };
      },
    });
    client = harness.client();
  });
  afterAll(() => harness.close());

  it('serves a streamed Response and a chat completion whichever deployment fails first', async () => {
    for (let round = 0; round < 2; round += 1) {
      harness.simulator.injectFaults({ kind: 'server_error', count: 1 });
      const { data: stream, response } = await client.responses.create({ model: MODEL, input: `Round ${round}.`, stream: true }).withResponse();
      const types: string[] = [];
      for await (const event of stream) types.push(event.type);
      expect(response.headers.get('x-dosrouter-attempts')).toBe('2');
      expect(types.filter((type) => type === 'response.created')).toHaveLength(1);
      expect(types.at(-1)).toBe('response.completed');
      harness.simulator.injectFaults({ kind: 'server_error', count: 1 });
      const { data: completion, response: chatResponse } = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: `Round ${round}.` }] }).withResponse();
      expect(chatResponse.headers.get('x-dosrouter-attempts')).toBe('2');
      expect(completion.choices[0]!.message.content!.length).toBeGreaterThan(0);
    }
    // Both deployments answered: each API served a request of each protocol.
    expect(sentBodies(harness, 'chat').length).toBeGreaterThan(0);
    expect(sentBodies(harness, 'responses').length).toBeGreaterThan(0);
  });
});
