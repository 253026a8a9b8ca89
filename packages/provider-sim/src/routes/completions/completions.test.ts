import OpenAI from 'openai';
import type { Completion } from 'openai/resources/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../simulator.js';
import type { Simulator } from '../../types.js';

async function collect(stream: AsyncIterable<Completion>): Promise<Completion[]> {
  const chunks: Completion[] = [];
  for await (const chunk of stream) {
    chunks.push(chunk);
  }
  return chunks;
}

describe('POST /v1/completions', () => {
  let simulator: Simulator;
  let client: OpenAI;

  beforeAll(async () => {
    simulator = await startSimulator({ models: [{ id: 'sim-instruct', outputTokens: 8 }] });
    client = new OpenAI({ apiKey: 'test-key', baseURL: simulator.baseUrl, maxRetries: 0 });
  });

  afterAll(async () => {
    await simulator.close();
  });

  describe('when the request is not streamed', () => {
    it('answers a text_completion with text and usage', async () => {
      const completion = await client.completions.create({ model: 'sim-instruct', prompt: 'Once upon a time' });

      expect(completion.object).toBe('text_completion');
      expect(completion.id).toMatch(/^cmpl-/);
      expect(completion.choices).toEqual([{ text: expect.any(String), index: 0, logprobs: null, finish_reason: 'stop' }]);
      expect(completion.choices[0]?.text.split(' ')).toHaveLength(8);
      expect(completion.usage).toEqual({ prompt_tokens: 4, completion_tokens: 8, total_tokens: 12 });
    });

    it('answers every prompt of an array, n choices each, indexed prompt-major', async () => {
      const completion = await client.completions.create({ model: 'sim-instruct', prompt: ['first', 'second'], n: 2, max_tokens: 3 });

      expect(completion.choices.map((choice) => choice.index)).toEqual([0, 1, 2, 3]);
      expect(completion.choices.every((choice) => choice.finish_reason === 'length')).toBe(true);
      expect(completion.usage?.completion_tokens).toBe(12);
    });

    it('accepts token arrays as the prompt', async () => {
      const completion = await client.completions.create({ model: 'sim-instruct', prompt: [1, 2, 3, 4, 5] });

      expect(completion.usage?.prompt_tokens).toBe(5);
    });
  });

  describe('when the request is streamed', () => {
    it('streams text_completion chunks that join to the non-streamed text, then a finish chunk', async () => {
      const whole = await client.completions.create({ model: 'sim-instruct', prompt: 'Once upon a time' });
      const chunks = await collect(await client.completions.create({ model: 'sim-instruct', prompt: 'Once upon a time', stream: true }));

      expect(chunks.every((chunk) => chunk.object === 'text_completion')).toBe(true);
      expect(chunks).toHaveLength(8 + 1);
      expect(chunks.map((chunk) => chunk.choices[0]?.text ?? '').join('')).toBe(whole.choices[0]?.text);
      expect(chunks.at(-1)?.choices[0]).toEqual({ text: '', index: 0, logprobs: null, finish_reason: 'stop' });
    });

    it('ends with a usage chunk without choices when include_usage is set', async () => {
      const chunks = await collect(
        await client.completions.create({
          model: 'sim-instruct',
          prompt: 'Once upon a time',
          stream: true,
          stream_options: { include_usage: true },
        }),
      );

      expect(chunks.at(-1)?.choices).toEqual([]);
      expect(chunks.at(-1)?.usage).toEqual({ prompt_tokens: 4, completion_tokens: 8, total_tokens: 12 });
    });
  });

  describe('when the prompt is missing', () => {
    it('answers 400 naming the prompt parameter', async () => {
      const error: unknown = await client.completions.create({ model: 'sim-instruct', prompt: null }).catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('prompt');
    });
  });
});
