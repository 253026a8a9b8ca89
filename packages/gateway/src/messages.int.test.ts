import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordTestSecret } from '../../shared/src/test-support/log-archive.js';
import { SIMULATOR_KEY, createClientKey, eventually, startHarness, type Harness } from './test-support/harness.js';

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

/**
 * A request shaped as Claude Code sends it (built from its documented shape, not captured): two cached system blocks
 * (a long prompt), fifteen tools with draft-07 schemas, a user turn with a system reminder and a cached text block,
 * streaming, and its beta header.
 */
const CLAUDE_CODE_REQUEST = JSON.parse(readFileSync(new URL('./test-support/fixtures/claude-code-request.json', import.meta.url), 'utf8')) as Anthropic.MessageCreateParamsStreaming;
const CLAUDE_CODE_BETA = 'claude-code-20250219,interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14';

type Kind = 'openai' | 'anthropic';

/** The request bodies the simulator received on the path the backend kind calls, newest last. */
function sentBodies(harness: Harness, kind: Kind): Record<string, unknown>[] {
  const path = kind === 'openai' ? '/v1/chat/completions' : '/v1/messages';
  return harness.simulator
    .recentRequests()
    .filter((request) => request.path === path)
    .map((request) => request.body as Record<string, unknown>);
}

function lastRequest(harness: Harness): { path: string; headers: Record<string, string>; body: Record<string, unknown> } {
  const request = harness.simulator.recentRequests().at(-1)!;
  return { path: request.path, headers: request.headers, body: request.body as Record<string, unknown> };
}

// The official Anthropic SDK against the gateway (ANTHROPIC_BASE_URL pointed at it), its deployments simulators of
// each backend kind: an OpenAI-compatible one (every request translated to Chat Completions and every answer back)
// and an Anthropic one (passed through untranslated).
describe.each<Kind>(['openai', 'anthropic'])('POST /v1/messages to a %s deployment', (kind) => {
  let harness: Harness;
  let client: Anthropic;
  let secret: string;
  beforeAll(async () => {
    harness = await startHarness({
      adminKey: ADMIN_KEY,
      models: [{ id: MODEL, outputTokens: OUTPUT_TOKENS, promptCacheMinimumTokens: 256 }],
      configure: (config) => {
        const backends = config.backends as Record<string, unknown>[];
        const primary = backends[0]!;
        if (kind === 'anthropic') Object.assign(primary, { kind, baseUrl: new URL(primary.baseUrl as string).origin });
        for (const model of primary.models as Record<string, unknown>[]) model.pricing = PRICING;
        config.server = { bodyLimit: '256kb' };
        // A second deployment of the model on the same simulator, for failover.
        backends.push({ ...primary, name: 'spare' });
        config.routing = {
          strategy: 'round-robin',
          retry: { attempts: 2, initialBackoffMs: 1, maxBackoffMs: 1, deadlineMs: 60_000 },
          rules: [{ name: 'claude-code-on-spare', match: { path: '/v1/messages', metadata: { tier: 'spare' } }, route: { strategy: 'cost' } }],
        };
      },
    });
    secret = (await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'anthropic-sdk' })).secret;
    client = new Anthropic({ apiKey: secret, baseURL: harness.gateway.url, maxRetries: 0, timeout: 20_000 });
  });
  afterAll(() => harness.close());

  it('answers a plain message as a Message, with usage and the routing headers, the key sent as x-api-key', async () => {
    harness.simulator.reset();
    const system = [{ type: 'text' as const, text: 'Be terse.', cache_control: { type: 'ephemeral' as const } }];
    const { data, response } = await client.messages
      .create({ model: MODEL, max_tokens: 100, system, messages: [{ role: 'user', content: 'Name three colours.' }] })
      .withResponse();
    expect(data).toMatchObject({ type: 'message', role: 'assistant', model: MODEL, stop_reason: 'end_turn', stop_sequence: null });
    expect(data.id).toMatch(/^msg_/);
    expect(data.content).toHaveLength(1);
    expect(data.content[0]).toMatchObject({ type: 'text', text: expect.stringMatching(/\S/) });
    expect(data.usage.output_tokens).toBe(OUTPUT_TOKENS);
    expect(data.usage.input_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-dosrouter-deployment')).toMatch(/^(sim|spare)\/sim-model$/);
    expect(response.headers.get('request-id')).toBe(response.headers.get('x-request-id'));
    const cost = Number(response.headers.get('x-dosrouter-cost-usd'));
    expect(cost).toBeCloseTo((data.usage.input_tokens * PRICING.inputPerMTok + OUTPUT_TOKENS * PRICING.outputPerMTok) / 1e6, 12);
    // Its own route label in the metrics (and the access line), not `other`.
    expect(await harness.gateway.metrics.registry.getSingleMetricAsString('dosrouter_requests_total')).toContain('route="/v1/messages"');
    const sent = lastRequest(harness);
    if (kind === 'openai') {
      expect(sent.body).toMatchObject({ model: MODEL, max_tokens: 100, messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'Name three colours.' }] });
    } else {
      // Untranslated: the client's body (cache_control included), the backend's credential and API version.
      expect(sent.body).toEqual({ model: MODEL, max_tokens: 100, system, messages: [{ role: 'user', content: 'Name three colours.' }] });
      expect(sent.headers).toMatchObject({ 'x-api-key': SIMULATOR_KEY, 'anthropic-version': '2023-06-01' });
    }
    expect(sent.headers.authorization ?? '').not.toContain(secret);
    expect(sent.headers['x-api-key']).not.toBe(secret);
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
    // The translation asks the backend for stream usage (message_delta carries it); a native stream always has it.
    if (kind === 'openai') expect(sentBodies(harness, kind).at(-1)).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    else expect(sentBodies(harness, kind).at(-1)).not.toHaveProperty('stream_options');
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
    const turns: Anthropic.MessageParam[] = [question, { role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: '21 degrees' }] }];
    const second = await client.messages.create({ model: MODEL, max_tokens: 100, tools: [weatherTool], messages: turns });
    expect(second.stop_reason).toBe('end_turn');
    expect(second.content[0]).toMatchObject({ type: 'text' });
    const sent = sentBodies(harness, kind).at(-1)!;
    if (kind === 'openai') {
      expect((sent.messages as unknown[]).slice(1)).toEqual([
        { role: 'assistant', content: null, tool_calls: [{ id: call.id, type: 'function', function: { name: 'get_weather', arguments: JSON.stringify(call.input) } }] },
        { role: 'tool', tool_call_id: call.id, content: '21 degrees' },
      ]);
      expect(sent.tools).toEqual([{ type: 'function', function: { name: 'get_weather', description: weatherTool.description, parameters: weatherTool.input_schema } }]);
    } else {
      expect(sent.messages).toEqual(JSON.parse(JSON.stringify(turns)));
    }
  });

  it('takes an image, and routes it as needing vision', async () => {
    const content = [
      { type: 'image' as const, source: { type: 'base64' as const, media_type: 'image/png' as const, data: PNG } },
      { type: 'text' as const, text: 'What is this?' },
    ];
    const answer = await client.messages.create({ model: MODEL, max_tokens: 20, messages: [{ role: 'user', content }] });
    expect(answer.content[0]).toMatchObject({ type: 'text' });
    const sent = (sentBodies(harness, kind).at(-1)!.messages as unknown[])[0];
    if (kind === 'openai') {
      expect(sent).toEqual({ role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }, { type: 'text', text: 'What is this?' }] });
    } else {
      expect(sent).toEqual({ role: 'user', content });
    }
    const explained = await fetch(`${harness.gateway.url}/v1/router/explain`, {
      method: 'POST',
      headers: { 'x-api-key': secret, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, max_tokens: 20, messages: [{ role: 'user', content }] }),
    });
    expect(explained.status).toBe(200);
    expect(await explained.json()).toMatchObject({ protocol: 'anthropic', request: { required_capabilities: ['vision'] } });
  });

  it('routes a PDF as needing documents, and sticks a conversation to the session in metadata.user_id', async () => {
    const explained = await fetch(`${harness.gateway.url}/v1/router/explain?protocol=anthropic`, {
      method: 'POST',
      headers: { 'x-api-key': secret, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: MODEL,
        max_tokens: 20,
        metadata: { user_id: 'user_1_account__session_42' },
        messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' } }, { type: 'text', text: 'Sum it up.' }] }],
      }),
    });
    const explanation = (await explained.json()) as { request: { required_capabilities: string[] }; session: { id: string } | null; attempts: string[] };
    // No deployment here declares documents: the explanation says why none can take it.
    expect(explanation.request.required_capabilities).toEqual(['documents']);
    expect(explanation.attempts).toEqual([]);
    expect(explanation.session).toMatchObject({ id: 'user_1_account__session_42' });
  });

  it('matches routing rules on the path /v1/messages and the request metadata, which a Chat backend is not sent', async () => {
    const { response } = await client.messages
      .create({ model: MODEL, max_tokens: 20, metadata: { user_id: 'u-9', tier: 'spare' } as Anthropic.Metadata, messages: [{ role: 'user', content: 'Hi.' }] })
      .withResponse();
    expect(response.headers.get('x-dosrouter-rule')).toBe('claude-code-on-spare');
    if (kind === 'openai') {
      const sent = sentBodies(harness, kind).at(-1)!;
      expect(sent).not.toHaveProperty('metadata');
      expect(sent.user).toBe('u-9');
    }
  });

  it('counts tokens: the native backend does, else the gateway estimates', async () => {
    const { data, response } = await client.messages.countTokens({ model: MODEL, system: 'Be terse.', messages: [{ role: 'user', content: 'Hello there, how are you?' }] }).withResponse();
    expect(data.input_tokens).toBeGreaterThan(5);
    expect(response.headers.get('x-dosrouter-token-count')).toBe(kind === 'anthropic' ? 'native' : 'estimate');
  });

  it('raises the SDK error classes with Anthropic error types', async () => {
    const missing = await client.messages.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] } as never).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(Anthropic.BadRequestError);
    expect((missing as InstanceType<typeof Anthropic.BadRequestError>).requestID).toMatch(/^[0-9a-f-]{36}$/);
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
    const tooLarge = await client.messages.create({ model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'x'.repeat(300_000) }] }).catch((error: unknown) => error);
    expect((tooLarge as InstanceType<typeof Anthropic.APIError>).status).toBe(413);
    expect((tooLarge as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
    // The backend's own refusal reaches the client as the same class.
    harness.simulator.injectFaults({ kind: 'bad_request' });
    const backendRefusal = await client.messages.create({ model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).catch((error: unknown) => error);
    expect(backendRefusal).toBeInstanceOf(Anthropic.BadRequestError);
  });

  it("enforces the key's limits: past them the SDK raises a RateLimitError", async () => {
    const limited = await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'one-a-minute', limits: { requestsPerMinute: 1 } });
    const own = new Anthropic({ apiKey: limited.secret, baseURL: harness.gateway.url, maxRetries: 0 });
    const ask = () => own.messages.create({ model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
    await ask();
    const error = await ask().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect((error as InstanceType<typeof Anthropic.RateLimitError>).error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
  });

  it('answers 529 overloaded_error when no deployment can take the request', async () => {
    // Each kind's way of saying so: an OpenAI-compatible backend's 503, Anthropic's 529 overloaded_error.
    harness.simulator.injectFaults({ kind: kind === 'openai' ? 'unavailable' : 'overloaded', count: 4, retryAfterSeconds: 0 });
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

  it('ends a stream cut after its first event with an error event, raised by the SDK', async () => {
    harness.simulator.injectFaults({ kind: 'stream_cut', count: 2 });
    const stream = client.messages.stream({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'Cut me off.' }] });
    const error = await stream.finalMessage().catch((caught: unknown) => caught);
    harness.simulator.clearFaults();
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'api_error' } });
  });

  it('records usage and cost of streamed answers', async () => {
    const key = await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'usage-check' });
    const own = new Anthropic({ apiKey: key.secret, baseURL: harness.gateway.url, maxRetries: 0 });
    const message = await own.messages.stream({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'Tell me something.' }] }).finalMessage();
    const promptTokens = message.usage.input_tokens + (message.usage.cache_read_input_tokens ?? 0) + (message.usage.cache_creation_input_tokens ?? 0);
    const expectedCost = (promptTokens * PRICING.inputPerMTok + OUTPUT_TOKENS * PRICING.outputPerMTok) / 1e6;
    await eventually(async () => {
      const response = await fetch(`${harness.gateway.url}/v1/usage`, { headers: { 'x-api-key': key.secret } });
      const usage = (await response.json()) as { totals: { requests: number; prompt_tokens: number; completion_tokens: number; cost_usd: number } };
      if (usage.totals.requests !== 1) return false;
      expect(usage.totals).toMatchObject({ prompt_tokens: promptTokens, completion_tokens: OUTPUT_TOKENS });
      expect(usage.totals.cost_usd).toBeCloseTo(expectedCost, 12);
      return true;
    }, 10_000);
  });

  it('answers a Claude Code-shaped request end to end: long cached system prompt, fifteen tools, streaming, betas', async () => {
    const stream = client.messages.stream({ ...CLAUDE_CODE_REQUEST, model: MODEL }, { headers: { 'anthropic-beta': CLAUDE_CODE_BETA } });
    const message = await stream.finalMessage();
    expect(['tool_use', 'end_turn']).toContain(message.stop_reason);
    expect(message.content.length).toBeGreaterThan(0);
    const sent = lastRequest(harness);
    if (kind === 'openai') {
      expect(sent.path).toBe('/v1/chat/completions');
      expect((sent.body.tools as unknown[]).length).toBe(CLAUDE_CODE_REQUEST.tools!.length);
      expect((sent.body.messages as { role: string; content: string }[])[0]!.content).toContain('You are Claude Code');
    } else {
      // Passed through: the beta header and every cache_control breakpoint arrive as sent.
      expect(sent.headers['anthropic-beta']).toBe(CLAUDE_CODE_BETA);
      expect(sent.body).toEqual({ ...JSON.parse(JSON.stringify(CLAUDE_CODE_REQUEST)), model: MODEL });
    }
  });
});

describe('POST /v1/messages to an anthropic deployment, natively', () => {
  let harness: Harness;
  let client: Anthropic;
  beforeAll(async () => {
    harness = await startHarness({
      models: [{ id: MODEL, outputTokens: OUTPUT_TOKENS, promptCacheMinimumTokens: 256 }],
      configure: (config) => {
        const primary = (config.backends as Record<string, unknown>[])[0]!;
        Object.assign(primary, { kind: 'anthropic', baseUrl: new URL(primary.baseUrl as string).origin });
      },
    });
    client = new Anthropic({ apiKey: 'open-mode', baseURL: harness.gateway.url, maxRetries: 0, timeout: 20_000 });
  });
  afterAll(() => harness.close());

  it('passes thinking blocks through, signed, and takes them back in the next turn', async () => {
    const question: Anthropic.MessageParam = { role: 'user', content: 'Think, then answer.' };
    const first = await client.messages.stream({ model: MODEL, max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: [question] }).finalMessage();
    const thinking = first.content.find((block) => block.type === 'thinking');
    expect(thinking).toMatchObject({ type: 'thinking', thinking: expect.stringMatching(/\S/), signature: expect.stringMatching(/\S/) });
    // The simulator, like Anthropic, refuses a thinking block whose signature it did not issue.
    const second = await client.messages.create({
      model: MODEL,
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [question, { role: 'assistant', content: first.content }, { role: 'user', content: 'And then?' }],
    });
    expect(second.content.some((block) => block.type === 'text')).toBe(true);
  });

  it('answers every malformed request with a 400 invalid_request_error naming the field', async () => {
    const base = { model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'x' }] };
    const user = (content: unknown) => ({ ...base, messages: [{ role: 'user', content }] });
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, messages: [null] }, 'messages.0'],
      [{ ...base, messages: [] }, 'messages'],
      [{ ...base, messages: [{ role: 'system', content: 'x' }] }, 'messages.0.role'],
      [user([null]), 'messages.0.content.0'],
      [user([{ type: 'image', source: null }]), 'messages.0.content.0.source'],
      [user([{ type: 'image', source: { type: 'base64', media_type: 'image/tiff', data: 'x' } }]), 'messages.0.content.0.source.media_type'],
      [user([{ type: 'document', source: { type: 'content', content: [null] } }]), 'messages.0.content.0.source.content.0'],
      [user([{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'tool_use' }] }]), 'messages.0.content.0.content.0.type'],
      [user([{ type: 'server_tool_use', id: 'a' }]), 'messages.0.content.0.type'],
      [{ ...base, system: [{}] }, 'system.0.type'],
      [{ ...base, tools: [null] }, 'tools.0'],
      [{ ...base, tools: [{ name: 'f' }] }, 'tools.0.input_schema'],
      [{ ...base, tool_choice: 'auto' }, 'tool_choice'],
      [{ ...base, tool_choice: { type: 'tool' } }, 'tool_choice.name'],
      [{ ...base, thinking: { type: 'enabled' } }, 'thinking.budget_tokens'],
      [{ ...base, metadata: [] }, 'metadata'],
      [{ ...base, stop_sequences: 'x' }, 'stop_sequences'],
      [{ ...base, temperature: 3 }, 'temperature'],
      [{ ...base, max_tokens: 0 }, 'max_tokens'],
      [{ ...base, stream: 'yes' }, 'stream'],
    ];
    for (const [body, field] of cases) {
      const response = await fetch(`${harness.gateway.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(response.status, field).toBe(400);
      const answer = (await response.json()) as { type: string; error: { type: string; message: string } };
      expect(answer.type).toBe('error');
      expect(answer.error.type).toBe('invalid_request_error');
      expect(answer.error.message.startsWith(`${field}: `), `${field}: ${answer.error.message}`).toBe(true);
    }
    const notJson = await fetch(`${harness.gateway.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  it('reports a repeated cached prefix as a cache read', async () => {
    const system = [{ type: 'text' as const, text: (CLAUDE_CODE_REQUEST.system as Anthropic.TextBlockParam[])[1]!.text, cache_control: { type: 'ephemeral' as const } }];
    const ask = () => client.messages.create({ model: MODEL, max_tokens: 50, system, messages: [{ role: 'user', content: 'Hi.' }] });
    const written = await ask();
    const read = await ask();
    expect(written.usage.cache_creation_input_tokens).toBeGreaterThan(0);
    expect(read.usage.cache_read_input_tokens).toBe(written.usage.cache_creation_input_tokens);
  });
});

describe('POST /v1/messages, streamed, to a backend that answers whole', () => {
  let harness: Harness;
  let backend: Server;
  beforeAll(async () => {
    // An OpenAI-compatible server that ignores `stream` (some do): it always answers one JSON completion.
    backend = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        const completion = {
          id: 'chatcmpl-whole',
          object: 'chat.completion',
          model: 'whole-model',
          choices: [{ index: 0, message: { role: 'assistant', content: 'All at once.' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 },
        };
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completion));
      });
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const { port } = backend.address() as AddressInfo;
    harness = await startHarness({
      models: [{ id: MODEL }],
      configure: (config) => {
        (config.backends as Record<string, unknown>[]).push({ name: 'whole', baseUrl: `http://127.0.0.1:${port}/v1`, models: [{ name: 'whole-model' }] });
      },
    });
  });
  afterAll(async () => {
    await harness.close();
    await new Promise((resolve) => backend.close(resolve));
  });

  it('sends the client the answer as stream events all the same', async () => {
    const client = new Anthropic({ apiKey: 'open-mode', baseURL: harness.gateway.url, maxRetries: 0 });
    const message = await client.messages.stream({ model: 'whole-model', max_tokens: 20, messages: [{ role: 'user', content: 'Hi.' }] }).finalMessage();
    expect(message).toMatchObject({ content: [{ type: 'text', text: 'All at once.' }], stop_reason: 'end_turn', usage: { input_tokens: 9, output_tokens: 3 } });
  });
});
