import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator } from '../../simulator.js';
import { postAndReadEvents, requestJson } from '../../test-support/read-event-stream.js';
import type { Simulator } from '../../types.js';

const API_KEY = 'sk-ant-test';
const HEADERS = { 'x-api-key': API_KEY, 'anthropic-version': '2023-06-01' };

const weatherTool = {
  name: 'get_weather',
  description: 'Weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] },
};

const question = {
  model: 'sim-claude',
  max_tokens: 256,
  system: 'You are terse.',
  messages: [{ role: 'user', content: 'What is a gateway?' }],
};

interface MessageBody {
  id: string;
  type: string;
  role: string;
  model: string;
  content: Array<Record<string, unknown>>;
  stop_reason: string;
  stop_sequence: string | null;
  usage: Record<string, unknown>;
}

describe('POST /v1/messages', () => {
  let simulator: Simulator;
  let url: string;

  async function create(body: unknown, headers: Record<string, string> = HEADERS): Promise<{ status: number; body: MessageBody; headers: Headers }> {
    const result = await requestJson(url, { body, headers });
    return { status: result.status, body: result.body as MessageBody, headers: result.headers };
  }

  async function stream(body: Record<string, unknown>): Promise<Array<{ event: string; data: Record<string, unknown> }>> {
    const result = await postAndReadEvents(url, { ...body, stream: true }, { headers: HEADERS });
    expect(result.status).toBe(200);
    expect(result.headers.get('content-type')).toBe('text/event-stream');
    return result.events.map((payload, index) => ({
      event: result.eventNames[index] ?? '',
      data: JSON.parse(payload) as Record<string, unknown>,
    }));
  }

  beforeAll(async () => {
    simulator = await startSimulator({
      apiKey: API_KEY,
      models: [
        { id: 'sim-claude', outputTokens: 12, promptCacheMinimumTokens: 0 },
        { id: 'sim-claude-long-cache', outputTokens: 4 },
        { id: 'sim-claude-unreported', outputTokens: 5, reportsUsage: false },
      ],
    });
    url = `${simulator.baseUrl}/messages`;
  });

  beforeEach(() => {
    simulator.reset();
  });

  afterAll(async () => {
    await simulator.close();
  });

  describe('when the request is not streamed', () => {
    it('answers a message with one text block, end_turn and the usage Anthropic reports', async () => {
      const { status, body, headers } = await create(question);
      expect(status).toBe(200);
      expect(headers.get('request-id')).toMatch(/^req_/);
      expect(body).toEqual({
        id: expect.stringMatching(/^msg_/),
        type: 'message',
        role: 'assistant',
        model: 'sim-claude',
        content: [{ type: 'text', text: expect.any(String) }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        // ceil("You are terse.".length / 4) + 3 for the message + ceil("What is a gateway?".length / 4)
        usage: {
          input_tokens: 4 + 3 + 5,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
          cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
          output_tokens: 12,
          service_tier: 'standard',
        },
      });
      expect(String(body.content[0]?.['text']).split(' ')).toHaveLength(12);
    });

    it('takes system as text blocks and counts the same tokens as the string', async () => {
      const { body } = await create({ ...question, system: [{ type: 'text', text: 'You are terse.' }] });
      expect(body.usage['input_tokens']).toBe(12);
    });

    it('stops at max_tokens with stop_reason max_tokens', async () => {
      const { body } = await create({ ...question, max_tokens: 3 });
      expect(body.stop_reason).toBe('max_tokens');
      expect(String(body.content[0]?.['text']).split(' ')).toHaveLength(3);
      expect(body.usage['output_tokens']).toBe(3);
    });

    it('stops before the first stop sequence and names it', async () => {
      const whole = await create(question);
      const text = String(whole.body.content[0]?.['text']);
      const sequence = text.split(' ')[3] ?? '';
      const { body } = await create({ ...question, stop_sequences: ['no such words', ` ${sequence}`] });
      expect(body.stop_reason).toBe('stop_sequence');
      expect(body.stop_sequence).toBe(` ${sequence}`);
      expect(body.content[0]?.['text']).toBe(text.slice(0, text.indexOf(` ${sequence}`)));
    });

    it('answers a tool_use block built from the input_schema, then text after the tool_result', async () => {
      const { body } = await create({ ...question, tools: [weatherTool] });
      expect(body.stop_reason).toBe('tool_use');
      const call = body.content[0];
      expect(call).toEqual({
        type: 'tool_use',
        id: expect.stringMatching(/^toolu_01[A-Za-z0-9]{22}$/),
        name: 'get_weather',
        input: { city: expect.any(String), days: expect.any(Number) },
      });
      const after = await create({
        ...question,
        tools: [weatherTool],
        messages: [
          ...question.messages,
          { role: 'assistant', content: [call] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: call?.['id'], content: '21 degrees' }] },
        ],
      });
      expect(after.body.stop_reason).toBe('end_turn');
      expect(after.body.content[0]?.['type']).toBe('text');
    });

    it('calls the tool that tool_choice names and none with tool_choice none', async () => {
      const lookup = { name: 'lookup', input_schema: { type: 'object', properties: {} } };
      const named = await create({ ...question, tools: [weatherTool, lookup], tool_choice: { type: 'tool', name: 'lookup' } });
      expect(named.body.content[0]).toMatchObject({ type: 'tool_use', name: 'lookup', input: {} });
      const none = await create({ ...question, tools: [weatherTool], tool_choice: { type: 'none' } });
      expect(none.body.content[0]?.['type']).toBe('text');
    });

    it('opens with a signed thinking block when thinking is enabled, counted in output_tokens', async () => {
      const { body } = await create({ ...question, max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 } });
      expect(body.content.map((block) => block['type'])).toEqual(['thinking', 'text']);
      expect(body.content[0]).toEqual({ type: 'thinking', thinking: expect.any(String), signature: expect.any(String) });
      expect(body.usage['output_tokens']).toBe(24);
    });

    it('takes its own thinking block back and rejects one whose text was changed', async () => {
      const first = await create({ ...question, max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 } });
      const turn = (thinking: Record<string, unknown>): unknown => ({
        ...question,
        max_tokens: 2048,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        messages: [...question.messages, { role: 'assistant', content: [thinking, first.body.content[1]] }, { role: 'user', content: 'More.' }],
      });
      const thinking = first.body.content[0] ?? {};
      expect((await create(turn(thinking))).status).toBe(200);
      const tampered = await create(turn({ ...thinking, thinking: 'something else' }));
      expect(tampered.status).toBe(400);
      expect(tampered.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    });

    it('accepts images, documents and unknown block types and counts images at a flat rate', async () => {
      const { status, body } = await create({
        ...question,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
              { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'abcdefgh' } },
              { type: 'text', text: 'What is it?' },
            ],
          },
        ],
      });
      expect(status).toBe(200);
      expect(body.usage['input_tokens']).toBe(4 + 3 + 1_600 + 2 + 3);
    });
  });

  describe('when the model reports no usage', () => {
    it('answers a message without usage, and streams message_start and message_delta without it', async () => {
      const unreported = { ...question, model: 'sim-claude-unreported' };
      const { status, body } = await create(unreported);
      expect(status).toBe(200);
      expect(body.content).toEqual([{ type: 'text', text: expect.any(String) as string }]);
      expect(body).not.toHaveProperty('usage');
      const events = await stream(unreported);
      expect(events.map((event) => event.event)).toContain('message_delta');
      expect(events.find((event) => event.event === 'message_start')!.data.message).not.toHaveProperty('usage');
      expect(events.every((event) => !('usage' in event.data))).toBe(true);
      expect(events.at(-1)!.event).toBe('message_stop');
    });
  });

  describe('when the request is streamed', () => {
    it('sends message_start, the block events, a ping, message_delta and message_stop, each named', async () => {
      const events = await stream(question);
      expect(events.map((event) => event.event)).toEqual([
        'message_start',
        'content_block_start',
        'ping',
        ...Array<string>(12).fill('content_block_delta'),
        'content_block_stop',
        'message_delta',
        'message_stop',
      ]);
      expect(events.every((event) => event.data['type'] === event.event)).toBe(true);
      expect(events[0]?.data['message']).toMatchObject({
        type: 'message',
        role: 'assistant',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 12, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, output_tokens: 1 },
      });
      expect(events[1]?.data).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
      expect(events[3]?.data).toEqual({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: expect.any(String) } });
      expect(events.at(-2)?.data).toEqual({
        type: 'message_delta',
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { output_tokens: 12 },
      });
    });

    it('streams text that joins to exactly the non-streamed text', async () => {
      const whole = await create(question);
      const events = await stream(question);
      const joined = events
        .filter((event) => event.event === 'content_block_delta')
        .map((event) => (event.data['delta'] as { text: string }).text)
        .join('');
      expect(joined).toBe(whole.body.content[0]?.['text']);
    });

    it('streams a tool call as input_json_delta pieces that join to the non-streamed input', async () => {
      const whole = await create({ ...question, tools: [weatherTool] });
      const events = await stream({ ...question, tools: [weatherTool] });
      const call = whole.body.content[0] ?? {};
      expect(events[1]?.data['content_block']).toEqual({ type: 'tool_use', id: call['id'], name: 'get_weather', input: {} });
      const pieces = events
        .filter((event) => event.event === 'content_block_delta')
        .map((event) => (event.data['delta'] as { type: string; partial_json: string }));
      expect(pieces.length).toBeGreaterThan(1);
      expect(pieces.every((piece) => piece.type === 'input_json_delta')).toBe(true);
      expect(JSON.parse(pieces.map((piece) => piece.partial_json).join(''))).toEqual(call['input']);
      expect(events.at(-2)?.data['delta']).toEqual({ stop_reason: 'tool_use', stop_sequence: null });
    });

    it('streams thinking as thinking_delta events and one signature_delta before the text block', async () => {
      const request = { ...question, max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 } };
      const whole = await create(request);
      const events = await stream(request);
      const deltas = events.filter((event) => event.event === 'content_block_delta').map((event) => event.data['delta'] as Record<string, string>);
      expect(events[1]?.data['content_block']).toEqual({ type: 'thinking', thinking: '' });
      expect(deltas.filter((delta) => delta['type'] === 'thinking_delta').map((delta) => delta['thinking']).join('')).toBe(
        whole.body.content[0]?.['thinking'],
      );
      expect(deltas.filter((delta) => delta['type'] === 'signature_delta')).toEqual([
        { type: 'signature_delta', signature: whole.body.content[0]?.['signature'] },
      ]);
      const textStart = events.findIndex((event) => event.event === 'content_block_start' && event.data['index'] === 1);
      expect(events[textStart - 1]?.data).toEqual({ type: 'content_block_stop', index: 0 });
    });
  });

  describe('when a block is marked cache_control', () => {
    const longSystem = 'You answer questions about gateways. '.repeat(120);
    const cachedQuestion = {
      ...question,
      system: [{ type: 'text', text: longSystem, cache_control: { type: 'ephemeral' } }],
    };
    const systemTokens = Math.ceil(longSystem.length / 4);

    it('writes the prefix on the first request and reads it on the repeat; input_tokens is the uncached rest', async () => {
      const first = await create(cachedQuestion);
      expect(first.body.usage).toMatchObject({
        input_tokens: 3 + 5,
        cache_creation_input_tokens: systemTokens,
        cache_read_input_tokens: 0,
        cache_creation: { ephemeral_5m_input_tokens: systemTokens, ephemeral_1h_input_tokens: 0 },
      });
      const second = await create({ ...cachedQuestion, messages: [{ role: 'user', content: 'Another question?' }] });
      expect(second.body.usage).toMatchObject({
        input_tokens: 3 + 5,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: systemTokens,
      });
      expect(simulator.stats.usage).toMatchObject({ cacheReadTokens: systemTokens, cacheWriteTokens: systemTokens });
    });

    it('reports the streamed cache read in message_start', async () => {
      await create(cachedQuestion);
      const events = await stream(cachedQuestion);
      expect((events[0]?.data['message'] as { usage: unknown }).usage).toMatchObject({
        input_tokens: 8,
        cache_read_input_tokens: systemTokens,
        cache_creation_input_tokens: 0,
      });
    });

    it('reads the longest cached breakpoint and writes the ones after it with their own ttl', async () => {
      await create(cachedQuestion);
      const conversation = {
        ...cachedQuestion,
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'First question, long enough.', cache_control: { type: 'ephemeral', ttl: '1h' } }] },
          { role: 'assistant', content: 'An answer.' },
          { role: 'user', content: 'Next?' },
        ],
      };
      const { body } = await create(conversation);
      // 3 + ceil(28 / 4) after the system prompt, then 3 + 3 and 3 + 2 uncached.
      expect(body.usage).toMatchObject({
        cache_read_input_tokens: systemTokens,
        cache_creation_input_tokens: 10,
        cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 10 },
        input_tokens: 11,
      });
    });

    it('does not cache a prefix shorter than the model minimum', async () => {
      const short = { ...cachedQuestion, model: 'sim-claude-long-cache', system: [{ type: 'text', text: 'Short.', cache_control: { type: 'ephemeral' } }] };
      await create(short);
      const { body } = await create(short);
      expect(body.usage).toMatchObject({ input_tokens: 2 + 8, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
    });

    it('does not change the answer: cache_control is not part of the prompt', async () => {
      const marked = await create(cachedQuestion);
      const plain = await create({ ...cachedQuestion, system: [{ type: 'text', text: longSystem }] });
      expect(plain.body.content).toEqual(marked.body.content);
    });

    it('rejects more than four breakpoints', async () => {
      const block = { type: 'text', text: 'x', cache_control: { type: 'ephemeral' } };
      const { status, body } = await create({ ...question, system: [block, block, block, block, block] });
      expect(status).toBe(400);
      expect(body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('Found 5') } });
    });
  });

  describe('when the request is wrong', () => {
    it.each([
      ['no x-api-key', { 'anthropic-version': '2023-06-01' }, 401, 'authentication_error', 'x-api-key header is required'],
      ['a wrong x-api-key', { ...HEADERS, 'x-api-key': 'wrong' }, 401, 'authentication_error', 'invalid x-api-key'],
      ['a wrong bearer key', { 'anthropic-version': '2023-06-01', authorization: 'Bearer wrong' }, 401, 'authentication_error', 'invalid x-api-key'],
      ['no anthropic-version', { 'x-api-key': API_KEY }, 400, 'invalid_request_error', 'anthropic-version: header is required'],
    ])('answers %s in Anthropic error shape', async (_name, headers, status, type, message) => {
      const result = await create(question, headers);
      expect(result.status).toBe(status);
      expect(result.body).toEqual({ type: 'error', error: { type, message }, request_id: expect.stringMatching(/^req_/) });
    });

    it('takes the key as Authorization: Bearer too, as the TypeScript SDK sends it', async () => {
      const result = await create(question, { 'anthropic-version': '2023-06-01', authorization: `Bearer ${API_KEY}` });
      expect(result.status).toBe(200);
    });

    it.each([
      ['no max_tokens', { ...question, max_tokens: undefined }, 'max_tokens: Field required'],
      ['no messages', { ...question, messages: undefined }, 'messages: Field required'],
      ['a system role message', { ...question, messages: [{ role: 'system', content: 'x' }] }, 'messages.0.role'],
      ['a temperature above 1', { ...question, temperature: 1.5 }, 'temperature'],
      ['a thinking budget below 1024', { ...question, max_tokens: 4000, thinking: { type: 'enabled', budget_tokens: 10 } }, 'budget_tokens'],
      ['max_tokens not above the thinking budget', { ...question, thinking: { type: 'enabled', budget_tokens: 1024 } }, '`max_tokens` must be greater'],
    ])('answers 400 invalid_request_error for %s', async (_name, body, message) => {
      const result = await create(body);
      expect(result.status).toBe(400);
      expect(result.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining(message) } });
    });

    it('answers an unknown model with 404 not_found_error', async () => {
      const result = await create({ ...question, model: 'claude-nope' });
      expect(result.status).toBe(404);
      expect(result.body).toMatchObject({ type: 'error', error: { type: 'not_found_error', message: 'model: claude-nope' } });
    });
  });
});

describe('POST /v1/messages/count_tokens', () => {
  let simulator: Simulator;

  beforeAll(async () => {
    simulator = await startSimulator({ models: [{ id: 'sim-claude' }] });
  });

  afterAll(async () => {
    await simulator.close();
  });

  it('counts every input token, tools included, whatever is cached', async () => {
    const body = { model: 'sim-claude', system: 'You are terse.', messages: [{ role: 'user', content: 'What is a gateway?' }] };
    const plain = await requestJson(`${simulator.baseUrl}/messages/count_tokens`, { body, headers: { 'anthropic-version': '2023-06-01' } });
    expect(plain).toMatchObject({ status: 200, body: { input_tokens: 12 } });
    const withTools = await requestJson(`${simulator.baseUrl}/messages/count_tokens`, {
      body: { ...body, tools: [weatherTool] },
      headers: { 'anthropic-version': '2023-06-01' },
    });
    const toolCharacters = 'get_weather'.length + 'Weather for a city'.length + JSON.stringify(weatherTool.input_schema).length;
    expect(withTools.body).toEqual({ input_tokens: 12 + Math.ceil(toolCharacters / 4) });
  });
});
