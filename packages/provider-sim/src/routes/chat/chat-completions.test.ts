import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../simulator.js';
import type { Simulator } from '../../types.js';

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string' },
        days: { type: 'integer' },
        metric: { type: 'boolean' },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
      },
      required: ['city'],
    },
  },
};

const messages: ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'What is a gateway?' },
];
const question = { model: 'sim-fast', messages };

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) {
    chunks.push(chunk);
  }
  return chunks;
}

describe('POST /v1/chat/completions', () => {
  let simulator: Simulator;
  let client: OpenAI;

  beforeAll(async () => {
    simulator = await startSimulator({
      models: [
        { id: 'sim-fast', outputTokens: 12 },
        { id: 'sim-timed', firstTokenDelayMs: 5, interTokenDelayMs: 1, outputTokens: 6 },
      ],
    });
    client = new OpenAI({ apiKey: 'test-key', baseURL: simulator.baseUrl, maxRetries: 0 });
  });

  afterAll(async () => {
    await simulator.close();
  });

  describe('when the request is not streamed', () => {
    it('answers a chat.completion with text, usage and finish_reason stop', async () => {
      const completion = await client.chat.completions.create(question);

      expect(completion.object).toBe('chat.completion');
      expect(completion.model).toBe('sim-fast');
      expect(completion.id).toMatch(/^chatcmpl-/);
      expect(completion.system_fingerprint).toMatch(/^fp_/);
      const choice = completion.choices[0];
      expect(choice?.finish_reason).toBe('stop');
      expect(choice?.message).toEqual({ role: 'assistant', content: expect.any(String), refusal: null });
      expect(choice?.message.content?.split(' ')).toHaveLength(12);
      // ceil(("You are terse." + "What is a gateway?").length / 4) + 3 per message
      expect(completion.usage).toEqual({ prompt_tokens: 8 + 6, completion_tokens: 12, total_tokens: 26 });
    });

    it('answers the same text to the same messages', async () => {
      const first = await client.chat.completions.create(question);
      const second = await client.chat.completions.create(question);

      expect(second.choices[0]?.message.content).toBe(first.choices[0]?.message.content);
      expect(second.id).not.toBe(first.id);
    });

    it('answers different text to different messages', async () => {
      const first = await client.chat.completions.create(question);
      const other = await client.chat.completions.create({ ...question, messages: [{ role: 'user', content: 'Other' }] });

      expect(other.choices[0]?.message.content).not.toBe(first.choices[0]?.message.content);
    });

    it('stops at max_tokens with finish_reason length', async () => {
      const completion = await client.chat.completions.create({ ...question, max_tokens: 3 });

      expect(completion.choices[0]?.finish_reason).toBe('length');
      expect(completion.choices[0]?.message.content?.split(' ')).toHaveLength(3);
      expect(completion.usage?.completion_tokens).toBe(3);
    });

    it('honours max_completion_tokens like max_tokens', async () => {
      const completion = await client.chat.completions.create({ ...question, max_completion_tokens: 2 });

      expect(completion.choices[0]?.finish_reason).toBe('length');
      expect(completion.usage?.completion_tokens).toBe(2);
    });
  });

  describe('when the request is streamed', () => {
    it('streams deltas that join to exactly the non-streamed content', async () => {
      const whole = await client.chat.completions.create(question);
      const chunks = await collect(await client.chat.completions.create({ ...question, stream: true }));

      const joined = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
      expect(joined).toBe(whole.choices[0]?.message.content);
    });

    it('opens with a role chunk, sends one token per chunk and closes with a finish chunk', async () => {
      const chunks = await collect(await client.chat.completions.create({ ...question, stream: true }));

      expect(chunks).toHaveLength(1 + 12 + 1);
      expect(chunks[0]?.object).toBe('chat.completion.chunk');
      expect(chunks[0]?.choices[0]).toEqual({
        index: 0,
        delta: { role: 'assistant', content: '' },
        logprobs: null,
        finish_reason: null,
      });
      expect(chunks[1]?.choices[0]?.delta).toEqual({ content: expect.stringMatching(/^\S+$/) });
      expect(chunks[2]?.choices[0]?.delta).toEqual({ content: expect.stringMatching(/^ \S+$/) });
      expect(chunks.at(-1)?.choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' });
      expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
      expect(chunks.every((chunk) => chunk.usage === undefined)).toBe(true);
    });

    it('adds usage: null to every chunk and a last usage chunk when include_usage is set', async () => {
      const chunks = await collect(
        await client.chat.completions.create({ ...question, stream: true, stream_options: { include_usage: true } }),
      );

      const last = chunks.at(-1);
      expect(last?.choices).toEqual([]);
      expect(last?.usage).toEqual({ prompt_tokens: 14, completion_tokens: 12, total_tokens: 26 });
      expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);
    });

    it('takes the configured first-token and inter-token delays and still matches the non-streamed text', async () => {
      const request = { ...question, model: 'sim-timed' };
      const startedAt = Date.now();
      const chunks = await collect(await client.chat.completions.create({ ...request, stream: true }));
      const elapsedMs = Date.now() - startedAt;
      const whole = await client.chat.completions.create(request);

      expect(elapsedMs).toBeGreaterThanOrEqual(5 + 5);
      expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(whole.choices[0]?.message.content);
    });
  });

  describe('when n is 2', () => {
    it('answers two choices with different text', async () => {
      const completion = await client.chat.completions.create({ ...question, n: 2 });

      expect(completion.choices.map((choice) => choice.index)).toEqual([0, 1]);
      expect(completion.choices[0]?.message.content).not.toBe(completion.choices[1]?.message.content);
      expect(completion.usage?.completion_tokens).toBe(24);
    });

    it('interleaves the streamed choices by index and each joins to its non-streamed text', async () => {
      const whole = await client.chat.completions.create({ ...question, n: 2 });
      const chunks = await collect(await client.chat.completions.create({ ...question, n: 2, stream: true }));

      const indexes = chunks.map((chunk) => chunk.choices[0]?.index);
      expect(indexes.slice(0, 4)).toEqual([0, 1, 0, 1]);
      for (const choice of whole.choices) {
        const joined = chunks
          .filter((chunk) => chunk.choices[0]?.index === choice.index)
          .map((chunk) => chunk.choices[0]?.delta.content ?? '')
          .join('');
        expect(joined).toBe(choice.message.content);
      }
    });
  });

  describe('when tools are given', () => {
    it('calls the first tool with JSON arguments built from its schema', async () => {
      const completion = await client.chat.completions.create({ ...question, tools: [weatherTool] });

      const choice = completion.choices[0];
      expect(choice?.finish_reason).toBe('tool_calls');
      expect(choice?.message.content).toBeNull();
      const call = choice?.message.tool_calls?.[0];
      expect(call?.id).toMatch(/^call_[A-Za-z0-9]{24}$/);
      expect(call?.type).toBe('function');
      const functionCall = call?.type === 'function' ? call.function : undefined;
      expect(functionCall?.name).toBe('get_weather');
      expect(JSON.parse(functionCall?.arguments ?? '')).toEqual({
        city: expect.any(String),
        days: expect.any(Number),
        metric: true,
        unit: 'celsius',
      });
    });

    it('calls the tool named by tool_choice', async () => {
      const otherTool = { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object', properties: {} } } };
      const completion = await client.chat.completions.create({
        ...question,
        tools: [weatherTool, otherTool],
        tool_choice: { type: 'function', function: { name: 'lookup' } },
      });

      const call = completion.choices[0]?.message.tool_calls?.[0];
      expect(call?.type === 'function' ? call.function : undefined).toEqual({ name: 'lookup', arguments: '{}' });
    });

    it('answers in text when tool_choice is none', async () => {
      const completion = await client.chat.completions.create({ ...question, tools: [weatherTool], tool_choice: 'none' });

      expect(completion.choices[0]?.finish_reason).toBe('stop');
      expect(completion.choices[0]?.message.tool_calls).toBeUndefined();
    });

    it('answers in text after a tool result', async () => {
      const first = await client.chat.completions.create({ ...question, tools: [weatherTool] });
      const call = first.choices[0]?.message.tool_calls?.[0];
      const completion = await client.chat.completions.create({
        ...question,
        tools: [weatherTool],
        messages: [
          ...question.messages,
          { role: 'assistant', content: null, tool_calls: call === undefined ? [] : [call] },
          { role: 'tool', tool_call_id: call?.id ?? '', content: '{"temperature": 21}' },
        ],
      });

      expect(completion.choices[0]?.finish_reason).toBe('stop');
      expect(completion.choices[0]?.message.content).toEqual(expect.any(String));
    });

    it('streams the call so that the client assembles the same call as the non-streamed answer', async () => {
      const whole = await client.chat.completions.create({ ...question, tools: [weatherTool] });
      const stream = client.chat.completions.stream({ ...question, tools: [weatherTool] });
      const assembled = await stream.finalChatCompletion();

      const call = assembled.choices[0]?.message.tool_calls?.[0];
      expect(assembled.choices[0]?.finish_reason).toBe('tool_calls');
      expect(call).toEqual(whole.choices[0]?.message.tool_calls?.[0]);
      const functionCall = call?.type === 'function' ? call.function : undefined;
      expect(JSON.parse(functionCall?.arguments ?? '')).toHaveProperty('city');
    });

    it('streams the arguments in several pieces after an opening chunk with the id and name', async () => {
      const chunks = await collect(await client.chat.completions.create({ ...question, tools: [weatherTool], stream: true }));

      expect(chunks[0]?.choices[0]?.delta).toEqual({
        role: 'assistant',
        content: null,
        tool_calls: [{ index: 0, id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'get_weather', arguments: '' } }],
      });
      const pieces = chunks.slice(1, -1).map((chunk) => chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments);
      expect(pieces.length).toBeGreaterThan(2);
      expect(JSON.parse(pieces.join(''))).toHaveProperty('city');
      expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
    });
  });

  describe('when a JSON response format is asked for', () => {
    it('answers a JSON object for json_object, the same every time', async () => {
      const request = { ...question, response_format: { type: 'json_object' as const } };
      const first = await client.chat.completions.create(request);
      const second = await client.chat.completions.create(request);

      expect(JSON.parse(first.choices[0]?.message.content ?? '')).toEqual({ answer: expect.any(String) });
      expect(second.choices[0]?.message.content).toBe(first.choices[0]?.message.content);
    });

    it('keeps the JSON valid when max_tokens cuts the answer short', async () => {
      const completion = await client.chat.completions.create({
        ...question,
        max_tokens: 2,
        response_format: { type: 'json_object' },
      });

      expect(JSON.parse(completion.choices[0]?.message.content ?? '')).toEqual({ answer: expect.any(String) });
    });

    it('answers JSON that follows the schema for json_schema, streamed or not', async () => {
      const request = {
        ...question,
        response_format: {
          type: 'json_schema' as const,
          json_schema: {
            name: 'summary',
            schema: { type: 'object', properties: { title: { type: 'string' }, score: { type: 'number' } } },
          },
        },
      };
      const whole = await client.chat.completions.create(request);
      const chunks = await collect(await client.chat.completions.create({ ...request, stream: true }));

      const content = whole.choices[0]?.message.content ?? '';
      expect(JSON.parse(content)).toEqual({ title: expect.any(String), score: expect.any(Number) });
      expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(content);
    });
  });
});
