import { randomBytes } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordTestSecret } from '../../shared/src/test-support/log-archive.js';
import { createClientKey, eventually, startHarness, type Harness } from './test-support/harness.js';

const ADMIN_KEY = `admin-${randomBytes(12).toString('hex')}`;
recordTestSecret(ADMIN_KEY);
const MODEL = 'sim-model';
const OUTPUT_TOKENS = 12;
/** $1 per million prompt tokens, $2 per million completion tokens. */
const PRICING = { inputPerMTok: 1, outputPerMTok: 2 };
/** A 1×1 PNG. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const weatherTool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
};

/** The simulator's recorded Chat request bodies, newest last. */
function chatBodies(harness: Harness): Record<string, unknown>[] {
  return harness.simulator
    .recentRequests()
    .filter((request) => request.path === '/v1/chat/completions')
    .map((request) => request.body as Record<string, unknown>);
}

// The official Anthropic SDK against the gateway, whose deployments are OpenAI-compatible simulators: every request
// is translated to Chat Completions and every answer back (ANTHROPIC_BASE_URL pointed at the gateway).
describe('POST /v1/messages to an OpenAI-compatible deployment', () => {
  let harness: Harness;
  let client: Anthropic;
  let secret: string;
  beforeAll(async () => {
    harness = await startHarness({
      adminKey: ADMIN_KEY,
      models: [{ id: MODEL, outputTokens: OUTPUT_TOKENS }],
      configure: (config) => {
        const backends = config.backends as Record<string, unknown>[];
        const primary = backends[0]!;
        for (const model of primary.models as Record<string, unknown>[]) model.pricing = PRICING;
        // A second deployment of the model on the same simulator, for failover.
        backends.push({ ...primary, name: 'spare' });
        config.routing = { strategy: 'round-robin', retry: { attempts: 2, initialBackoffMs: 1, maxBackoffMs: 1, deadlineMs: 60_000 } };
      },
    });
    secret = (await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'anthropic-sdk' })).secret;
    client = new Anthropic({ apiKey: secret, baseURL: harness.gateway.url, maxRetries: 0, timeout: 20_000 });
  });
  afterAll(() => harness.close());

  it('answers a plain message as a Message, with usage and the routing headers, the key sent as x-api-key', async () => {
    harness.simulator.reset();
    const { data, response } = await client.messages
      .create({ model: MODEL, max_tokens: 100, system: [{ type: 'text', text: 'Be terse.', cache_control: { type: 'ephemeral' } }], messages: [{ role: 'user', content: 'Name three colours.' }] })
      .withResponse();
    expect(data).toMatchObject({ type: 'message', role: 'assistant', model: MODEL, stop_reason: 'end_turn', stop_sequence: null });
    expect(data.id).toMatch(/^msg_/);
    expect(data.content).toHaveLength(1);
    expect(data.content[0]).toMatchObject({ type: 'text', text: expect.stringMatching(/\S/) });
    expect(data.usage.output_tokens).toBe(OUTPUT_TOKENS);
    expect(data.usage.input_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-dosrouter-deployment')).toMatch(/^(sim|spare)\/sim-model$/);
    const cost = Number(response.headers.get('x-dosrouter-cost-usd'));
    expect(cost).toBeCloseTo((data.usage.input_tokens * PRICING.inputPerMTok + OUTPUT_TOKENS * PRICING.outputPerMTok) / 1e6, 12);
    const [sent] = chatBodies(harness);
    expect(sent).toMatchObject({ model: MODEL, max_tokens: 100, messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'Name three colours.' }] });
  });

  it('streams Anthropic events, in order, ending with the usage and message_stop', async () => {
    const stream = await client.messages.create({ model: MODEL, max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'Count to five.' }] });
    const types: string[] = [];
    let text = '';
    let outputTokens = 0;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
      if (event.type === 'message_delta') outputTokens = event.usage.output_tokens;
    }
    expect(types[0]).toBe('message_start');
    expect(types[1]).toBe('content_block_start');
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(text.trim().split(/\s+/)).toHaveLength(OUTPUT_TOKENS);
    expect(outputTokens).toBe(OUTPUT_TOKENS);
    // The translation asked the backend for stream usage (message_delta carries it).
    expect(chatBodies(harness).at(-1)).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('gives messages.stream() a finalMessage() with its text and usage', async () => {
    const message = await client.messages.stream({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'Say hello.' }] }).finalMessage();
    expect(message.content[0]).toMatchObject({ type: 'text' });
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.output_tokens).toBe(OUTPUT_TOKENS);
    expect(message.usage.input_tokens).toBeGreaterThan(0);
  });

  it('round-trips a tool call: tool_use with an id, then the tool_result, streamed and not', async () => {
    const question = { role: 'user' as const, content: 'What is the weather in Oslo?' };
    const first = await client.messages.stream({ model: MODEL, max_tokens: 100, tools: [weatherTool], messages: [question] }).finalMessage();
    expect(first.stop_reason).toBe('tool_use');
    const call = first.content.find((block) => block.type === 'tool_use');
    expect(call).toMatchObject({ type: 'tool_use', id: expect.stringMatching(/\S/), name: 'get_weather', input: { city: expect.any(String) } });
    if (call?.type !== 'tool_use') throw new Error('no tool_use block');
    const second = await client.messages.create({
      model: MODEL,
      max_tokens: 100,
      tools: [weatherTool],
      messages: [question, { role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: '21 degrees' }] }],
    });
    expect(second.stop_reason).toBe('end_turn');
    expect(second.content[0]).toMatchObject({ type: 'text' });
    const sent = chatBodies(harness).at(-1)!;
    expect((sent.messages as unknown[]).slice(1)).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: call.id, type: 'function', function: { name: 'get_weather', arguments: JSON.stringify(call.input) } }] },
      { role: 'tool', tool_call_id: call.id, content: '21 degrees' },
    ]);
    expect(sent.tools).toEqual([{ type: 'function', function: { name: 'get_weather', description: weatherTool.description, parameters: weatherTool.input_schema } }]);
  });

  it('sends an image as an image_url data URL, and routes it as needing vision', async () => {
    const content = [
      { type: 'image' as const, source: { type: 'base64' as const, media_type: 'image/png' as const, data: PNG } },
      { type: 'text' as const, text: 'What is this?' },
    ];
    await client.messages.create({ model: MODEL, max_tokens: 20, messages: [{ role: 'user', content }] });
    expect((chatBodies(harness).at(-1)!.messages as unknown[])[0]).toEqual({
      role: 'user',
      content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }, { type: 'text', text: 'What is this?' }],
    });
    const explained = await fetch(`${harness.gateway.url}/v1/router/explain`, {
      method: 'POST',
      headers: { 'x-api-key': secret, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, max_tokens: 20, messages: [{ role: 'user', content }] }),
    });
    expect(explained.status).toBe(200);
    expect(await explained.json()).toMatchObject({ protocol: 'anthropic', request: { required_capabilities: ['vision'] } });
  });

  it('counts tokens with the gateway estimate when the deployment is not Anthropic', async () => {
    const { data, response } = await client.messages.countTokens({ model: MODEL, system: 'Be terse.', messages: [{ role: 'user', content: 'Hello there, how are you?' }] }).withResponse();
    expect(data.input_tokens).toBeGreaterThan(5);
    expect(response.headers.get('x-dosrouter-token-count')).toBe('estimate');
  });

  it('raises the SDK error classes with Anthropic error types', async () => {
    const missing = await client.messages.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] } as never).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(Anthropic.BadRequestError);
    expect((missing as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } });
    const unknown = await client.messages.create({ model: 'no-such-model', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(Anthropic.NotFoundError);
    expect((unknown as InstanceType<typeof Anthropic.NotFoundError>).error).toMatchObject({ error: { type: 'not_found_error' } });
    const anonymous = new Anthropic({ apiKey: 'not-a-key', baseURL: harness.gateway.url, maxRetries: 0 });
    const refused = await anonymous.messages.create({ model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((refused as InstanceType<typeof Anthropic.AuthenticationError>).error).toMatchObject({ error: { type: 'authentication_error' } });
    const badBlock = await client.messages.create({ model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'tool_use', id: 'a', name: 'b', input: {} }] }] }).catch((error: unknown) => error);
    expect((badBlock as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({ error: { message: 'messages.0.content.0.type: a tool_use block cannot be in a user message' } });
  });

  it('answers 529 overloaded_error when no deployment can take the request', async () => {
    harness.simulator.injectFaults({ kind: 'unavailable', count: 4, retryAfterSeconds: 0 });
    const error = await client.messages.create({ model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).catch((caught: unknown) => caught);
    harness.simulator.clearFaults();
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
  });

  it('fails over before the first event: the client sees one clean stream', async () => {
    harness.simulator.injectFaults({ kind: 'server_error', count: 1 });
    const { data: stream, response } = await client.messages.create({ model: MODEL, max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'Again.' }] }).withResponse();
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(response.headers.get('x-dosrouter-attempts')).toBe('2');
    expect(types[0]).toBe('message_start');
    expect(types.at(-1)).toBe('message_stop');
    expect(types.filter((type) => type === 'message_start')).toHaveLength(1);
  });

  it('records usage and cost of streamed answers', async () => {
    const key = await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'usage-check' });
    const own = new Anthropic({ apiKey: key.secret, baseURL: harness.gateway.url, maxRetries: 0 });
    const message = await own.messages.stream({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'Tell me something.' }] }).finalMessage();
    const expectedCost = (message.usage.input_tokens * PRICING.inputPerMTok + OUTPUT_TOKENS * PRICING.outputPerMTok) / 1e6;
    await eventually(async () => {
      const response = await fetch(`${harness.gateway.url}/v1/usage`, { headers: { 'x-api-key': key.secret } });
      const usage = (await response.json()) as { totals: { requests: number; prompt_tokens: number; completion_tokens: number; cost_usd: number } };
      if (usage.totals.requests !== 1) return false;
      expect(usage.totals).toMatchObject({ prompt_tokens: message.usage.input_tokens, completion_tokens: OUTPUT_TOKENS });
      expect(usage.totals.cost_usd).toBeCloseTo(expectedCost, 12);
      return true;
    }, 10_000);
  });
});
