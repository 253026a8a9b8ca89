import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JSON_STYLES } from '@dosrouter/provider-sim';
import { SIMULATOR_KEY, eventually, startHarness, type Harness } from './test-support/harness.js';

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] },
  },
};

// Every test runs against a backend that writes compact JSON (as OpenAI does), spaced JSON (as Python servers do) and
// pretty-printed JSON (each stream event as several data lines): the gateway must read usage from all three.
describe.each(JSON_STYLES)('POST /v1/chat/completions through the gateway (backend JSON %s)', (jsonStyle) => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({
      models: [{ id: 'sim-model', outputTokens: 20, jsonStyle }],
      configure: (config) => {
        (config as { aliases: Record<string, string> }).aliases = { 'my-alias': 'sim-model' };
      },
    });
  });
  afterAll(() => harness.close());

  const messages = [
    { role: 'system' as const, content: 'You are terse.' },
    { role: 'user' as const, content: 'Name three colours.' },
  ];

  describe('when the client does not stream', () => {
    it('returns the backend answer with usage and the routing headers', async () => {
      const { data, response } = await harness
        .client()
        .chat.completions.create({ model: 'sim-model', messages })
        .withResponse();
      expect(data.object).toBe('chat.completion');
      expect(data.choices[0]?.message.content?.length).toBeGreaterThan(0);
      expect(data.usage?.completion_tokens).toBe(20);
      expect(data.usage?.prompt_tokens).toBeGreaterThan(0);
      expect(response.headers.get('x-dosrouter-model')).toBe('sim-model');
      expect(response.headers.get('x-dosrouter-deployment')).toBe('sim/sim-model');
      expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('keeps the client request id', async () => {
      const { response } = await harness
        .client()
        .chat.completions.create({ model: 'sim-model', messages }, { headers: { 'x-request-id': 'trace-abc.123' } })
        .withResponse();
      expect(response.headers.get('x-request-id')).toBe('trace-abc.123');
    });

    it('sends the backend its own credential and model id, never the client key', async () => {
      harness.simulator.reset();
      await harness.client().chat.completions.create({ model: 'my-alias', messages });
      const [recorded] = harness.simulator.recentRequests();
      expect(recorded?.headers.authorization).toBe(`Bearer ${SIMULATOR_KEY}`);
      expect(JSON.stringify(recorded)).not.toContain('client-key-not-forwarded');
      expect((recorded?.body as { model: string }).model).toBe('sim-model');
    });

    it('answers n: 2 with two different choices', async () => {
      const completion = await harness.client().chat.completions.create({ model: 'sim-model', messages, n: 2 });
      expect(completion.choices.map((choice) => choice.index)).toEqual([0, 1]);
      expect(completion.choices[0]?.message.content).not.toBe(completion.choices[1]?.message.content);
    });
  });

  describe('when the client streams', () => {
    it('streams deltas that join to the non-streaming answer', async () => {
      const client = harness.client();
      const whole = await client.chat.completions.create({ model: 'sim-model', messages });
      const stream = await client.chat.completions.create({ model: 'sim-model', messages, stream: true });
      const deltas: string[] = [];
      let chunks = 0;
      for await (const chunk of stream) {
        chunks += 1;
        expect(chunk.choices).toHaveLength(1);
        deltas.push(chunk.choices[0]?.delta.content ?? '');
      }
      expect(chunks).toBeGreaterThan(10);
      expect(deltas.join('')).toBe(whole.choices[0]?.message.content);
    });

    it('sends the usage chunk when the client asks for it', async () => {
      const stream = await harness.client().chat.completions.create({
        model: 'sim-model',
        messages,
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      const last = chunks.at(-1);
      expect(last?.choices).toEqual([]);
      expect(last?.usage?.completion_tokens).toBe(20);
    });

    it('records stream tokens the client did not ask for, without showing it the usage chunk', async () => {
      const stream = await harness.client().chat.completions.create(
        { model: 'sim-model', messages, stream: true },
        { headers: { 'x-request-id': 'usage-hidden-1' } },
      );
      for await (const chunk of stream) expect(chunk.choices.length).toBe(1);
      await eventually(() => harness.logs.accessLines().some((entry) => entry.requestId === 'usage-hidden-1'));
      const line = harness.logs.accessLines().find((entry) => entry.requestId === 'usage-hidden-1');
      expect(line).toMatchObject({ status: 200, completionTokens: 20, stream: true, deployment: 'sim/sim-model' });
      expect(line?.ttftMs).toEqual(expect.any(Number));
      const forwarded = harness.simulator.recentRequests().at(-1)?.body as { stream_options?: { include_usage?: boolean } };
      expect(forwarded.stream_options?.include_usage).toBe(true);
    });

    it('delivers a tool call that the SDK stream helper assembles', async () => {
      const runner = harness.client().chat.completions.stream({
        model: 'sim-model',
        messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
        tools: [weatherTool],
      });
      const completion = await runner.finalChatCompletion();
      const call = completion.choices[0]?.message.tool_calls?.[0];
      expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
      expect(call?.type).toBe('function');
      if (call?.type !== 'function') throw new Error('expected a function call');
      expect(call.function.name).toBe('get_weather');
      expect(JSON.parse(call.function.arguments)).toHaveProperty('city');
    });
  });
});
