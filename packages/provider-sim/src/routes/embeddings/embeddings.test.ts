import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestJson } from '../../test-support/read-event-stream.js';
import { startSimulator } from '../../simulator.js';
import type { Simulator } from '../../types.js';

function length(vector: readonly number[]): number {
  return Math.sqrt(vector.reduce((sum, component) => sum + component * component, 0));
}

describe('POST /v1/embeddings', () => {
  let simulator: Simulator;
  let client: OpenAI;

  beforeAll(async () => {
    simulator = await startSimulator({ models: [{ id: 'sim-embed' }] });
    client = new OpenAI({ apiKey: 'test-key', baseURL: simulator.baseUrl, maxRetries: 0 });
  });

  afterAll(async () => {
    await simulator.close();
  });

  describe('when the client uses its default base64 encoding', () => {
    it('answers unit vectors of 16 dimensions that the client decodes', async () => {
      const response = await client.embeddings.create({ model: 'sim-embed', input: ['alpha', 'beta'] });

      expect(simulator.recentRequests().at(-1)?.body).toMatchObject({ encoding_format: 'base64' });
      expect(response.object).toBe('list');
      expect(response.data.map((item) => item.index)).toEqual([0, 1]);
      for (const item of response.data) {
        expect(item.embedding).toHaveLength(16);
        expect(length(item.embedding)).toBeCloseTo(1, 5);
      }
      expect(response.data[0]?.embedding).not.toEqual(response.data[1]?.embedding);
      // ceil(5 / 4) + ceil(4 / 4)
      expect(response.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    });
  });

  describe('when floats are asked for', () => {
    it('answers the same vectors as base64 does', async () => {
      const decoded = await client.embeddings.create({ model: 'sim-embed', input: 'alpha' });
      const floats = await client.embeddings.create({ model: 'sim-embed', input: 'alpha', encoding_format: 'float' });

      expect(floats.data[0]?.embedding).toEqual(Array.from(decoded.data[0]?.embedding ?? []));
    });

    it('answers vectors of the requested dimensions', async () => {
      const response = await client.embeddings.create({
        model: 'sim-embed',
        input: 'alpha',
        dimensions: 64,
        encoding_format: 'float',
      });

      expect(response.data[0]?.embedding).toHaveLength(64);
    });
  });

  describe('when the input is token arrays', () => {
    it('counts one prompt token per token', async () => {
      const response = await client.embeddings.create({ model: 'sim-embed', input: [[1, 2, 3], [4, 5]], encoding_format: 'float' });

      expect(response.data).toHaveLength(2);
      expect(response.usage.prompt_tokens).toBe(5);
    });
  });

  describe('when the input is empty', () => {
    it('answers 400 naming the input parameter', async () => {
      const response = await requestJson(`${simulator.baseUrl}/embeddings`, { body: { model: 'sim-embed', input: '' } });

      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: { type: 'invalid_request_error', param: 'input' } });
    });
  });
});
