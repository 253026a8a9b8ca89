import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator } from '../../simulator.js';
import type { Simulator } from '../../types.js';

// 4,800 characters: 1,200 tokens, + 3 for its message.
const longSystem = 'You answer questions about gateways. '.repeat(130).slice(0, 4_800);
const conversation = [
  { role: 'system' as const, content: longSystem },
  { role: 'user' as const, content: 'What is a gateway?' },
];

describe('OpenAI prompt caching on POST /v1/chat/completions', () => {
  let simulator: Simulator;
  let client: OpenAI;

  beforeAll(async () => {
    simulator = await startSimulator({ models: [{ id: 'sim-fast', outputTokens: 4 }, { id: 'sim-other', outputTokens: 4 }] });
    client = new OpenAI({ apiKey: 'test-key', baseURL: simulator.baseUrl, maxRetries: 0 });
  });

  beforeEach(() => {
    simulator.reset();
  });

  afterAll(async () => {
    await simulator.close();
  });

  it('reports no cached tokens the first time and none of prompt_tokens_details', async () => {
    const completion = await client.chat.completions.create({ model: 'sim-fast', messages: conversation });
    // 1,200 + 3 for the system message, ceil(18 / 4) + 3 for the user's.
    expect(completion.usage).toEqual({ prompt_tokens: 1_200 + 3 + 5 + 3, completion_tokens: 4, total_tokens: 1_215 });
  });

  it('reports the repeated prefix as cached_tokens, in steps of 128, within prompt_tokens', async () => {
    await client.chat.completions.create({ model: 'sim-fast', messages: conversation });
    const repeat = await client.chat.completions.create({
      model: 'sim-fast',
      messages: [...conversation, { role: 'assistant', content: 'A proxy.' }, { role: 'user', content: 'And a router?' }],
    });
    // The longest cached prefix is the whole first prompt, 1,211 tokens: 9 × 128 = 1,152 of them are reported.
    expect(repeat.usage?.prompt_tokens_details).toEqual({ cached_tokens: 1_152 });
    // ceil((4,800 + 18 + 8 + 13) / 4) + 4 messages × 3: the cached tokens are part of prompt_tokens.
    expect(repeat.usage?.prompt_tokens).toBe(1_210 + 12);
    expect(simulator.stats.usage).toMatchObject({ answers: 2, cacheReadTokens: 1_152, cacheWriteTokens: 0 });
  });

  it('reports the cached tokens in the usage chunk of a stream', async () => {
    await client.chat.completions.create({ model: 'sim-fast', messages: conversation });
    const stream = await client.chat.completions.create({
      model: 'sim-fast',
      messages: conversation,
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: unknown;
    for await (const chunk of stream) {
      usage = chunk.usage ?? usage;
    }
    expect(usage).toMatchObject({ prompt_tokens: 1_211, prompt_tokens_details: { cached_tokens: 1_152 } });
  });

  it('caches per model and never a prompt below 1024 tokens', async () => {
    await client.chat.completions.create({ model: 'sim-fast', messages: conversation });
    const otherModel = await client.chat.completions.create({ model: 'sim-other', messages: conversation });
    expect(otherModel.usage?.prompt_tokens_details).toBeUndefined();
    const short = [{ role: 'user' as const, content: 'Hello' }];
    await client.chat.completions.create({ model: 'sim-fast', messages: short });
    const shortRepeat = await client.chat.completions.create({ model: 'sim-fast', messages: short });
    expect(shortRepeat.usage?.prompt_tokens_details).toBeUndefined();
  });
});
