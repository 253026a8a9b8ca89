import Anthropic from '@anthropic-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../simulator.js';
import type { Simulator } from '../../types.js';

const API_KEY = 'sk-ant-sim';
const question = { model: 'sim-claude', max_tokens: 512, messages: [{ role: 'user' as const, content: 'What is a gateway?' }] };
const weatherTool = {
  name: 'get_weather',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
};

describe('the official Anthropic SDK against the simulator', () => {
  let simulator: Simulator;
  let client: Anthropic;

  beforeAll(async () => {
    simulator = await startSimulator({ apiKey: API_KEY, models: [{ id: 'sim-claude', outputTokens: 16, promptCacheMinimumTokens: 0 }] });
    // The SDK appends /v1/messages itself: its base URL is the simulator's root.
    client = new Anthropic({ apiKey: API_KEY, baseURL: simulator.baseUrl.replace(/\/v1$/, ''), maxRetries: 0 });
  });

  afterEach(() => {
    simulator.reset();
  });

  afterAll(async () => {
    await simulator.close();
  });

  it('creates a message and streams one whose finalMessage() is the same answer', async () => {
    const message = await client.messages.create(question);
    const final = await client.messages.stream(question).finalMessage();
    expect(final.content).toEqual(message.content);
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage).toEqual(message.usage);
    expect(final.usage.output_tokens).toBe(16);
  });

  it('assembles a streamed tool_use block and answers the tool_result in text', async () => {
    const final = await client.messages.stream({ ...question, tools: [weatherTool] }).finalMessage();
    const call = final.content[0];
    expect(final.stop_reason).toBe('tool_use');
    expect(call).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: expect.any(String) } });
    if (call?.type !== 'tool_use') throw new Error('expected a tool_use block');
    const answer = await client.messages.create({
      ...question,
      tools: [weatherTool],
      messages: [...question.messages, { role: 'assistant', content: [call] }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: 'sunny' }] }],
    });
    expect(answer.content[0]?.type).toBe('text');
  });

  it('assembles streamed thinking with its signature, which the simulator takes back', async () => {
    const thinking = { type: 'enabled' as const, budget_tokens: 1024 };
    const final = await client.messages.stream({ ...question, max_tokens: 2048, thinking }).finalMessage();
    const [thought, text] = final.content;
    expect(thought).toEqual({ type: 'thinking', thinking: expect.any(String), signature: expect.any(String) });
    const next = await client.messages.create({
      ...question,
      max_tokens: 2048,
      thinking,
      messages: [...question.messages, { role: 'assistant', content: [thought!, text!] }, { role: 'user', content: 'Go on.' }],
    });
    expect(next.content.map((block) => block.type)).toEqual(['thinking', 'text']);
  });

  it('counts tokens', async () => {
    expect(await client.messages.countTokens({ model: 'sim-claude', messages: question.messages })).toEqual({ input_tokens: 3 + 5 });
  });

  it('reports a cache write, then a cache read, through the SDK', async () => {
    const cached = { ...question, system: [{ type: 'text' as const, text: 'Be terse. '.repeat(40), cache_control: { type: 'ephemeral' as const } }] };
    const first = await client.messages.create(cached);
    const second = await client.messages.stream(cached).finalMessage();
    expect(first.usage.cache_creation_input_tokens).toBe(100);
    expect(second.usage).toMatchObject({ cache_read_input_tokens: 100, cache_creation_input_tokens: 0, input_tokens: 8 });
  });

  describe('when something fails', () => {
    it('raises the SDK error class of each status', async () => {
      const wrongKey = new Anthropic({ apiKey: 'wrong', baseURL: simulator.baseUrl.replace(/\/v1$/, ''), maxRetries: 0 });
      await expect(wrongKey.messages.create(question)).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
      await expect(client.messages.create({ ...question, model: 'nope' })).rejects.toBeInstanceOf(Anthropic.NotFoundError);
      simulator.injectFaults({ kind: 'rate_limit' });
      await expect(client.messages.create(question)).rejects.toBeInstanceOf(Anthropic.RateLimitError);
      simulator.injectFaults({ kind: 'overloaded' });
      const overloaded = await client.messages.create(question).catch((error: unknown) => error);
      expect(overloaded).toBeInstanceOf(Anthropic.APIError);
      expect(overloaded).toMatchObject({ status: 529, type: 'overloaded_error' });
    });

    it('throws the error event of a stream_error fault as an APIError, after part of the answer', async () => {
      simulator.injectFaults({ kind: 'stream_error' });
      const stream = client.messages.stream(question);
      let text = '';
      stream.on('text', (delta) => {
        text += delta;
      });
      const failure = await stream.finalMessage().catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(Anthropic.APIError);
      expect(failure).toMatchObject({ type: 'overloaded_error' });
      expect(text.length).toBeGreaterThan(0);
      expect(simulator.stats.usage.answers).toBe(0);
    });

    it('answers a non-streamed stream_error fault with 529', async () => {
      simulator.injectFaults({ kind: 'stream_error' });
      await expect(client.messages.create(question)).rejects.toMatchObject({ status: 529 });
    });

    it('breaks the SDK stream on a malformed_chunk or stream_cut fault', async () => {
      simulator.injectFaults({ kind: 'malformed_chunk' });
      await expect(client.messages.stream(question).finalMessage()).rejects.toThrow();
      simulator.injectFaults({ kind: 'stream_cut' });
      await expect(client.messages.stream(question).finalMessage()).rejects.toThrow();
    });
  });
});
