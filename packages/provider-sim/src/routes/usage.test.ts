import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postAndReadEvents, requestJson } from '../test-support/read-event-stream.js';
import { startSimulator } from '../simulator.js';
import type { Simulator } from '../types.js';

describe('a model with reportsUsage: false', () => {
  let simulator: Simulator;
  const chat = { model: 'sim-local', messages: [{ role: 'user', content: 'how many tokens was that?' }] };
  const includeUsage = { stream: true, stream_options: { include_usage: true } };

  beforeAll(async () => {
    simulator = await startSimulator({ models: [{ id: 'sim-local', outputTokens: 5, reportsUsage: false }, { id: 'sim-cloud' }] });
  });

  afterAll(async () => {
    await simulator.close();
  });

  it.each([
    ['chat/completions', chat],
    ['completions', { model: 'sim-local', prompt: 'how many tokens was that?' }],
    ['embeddings', { model: 'sim-local', input: 'how many tokens was that?' }],
  ])('answers /v1/%s with a body without usage', async (path, body) => {
    const response = await requestJson(`${simulator.baseUrl}/${path}`, { body });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ model: 'sim-local' });
    expect(response.body).not.toHaveProperty('usage');
  });

  it.each([
    ['chat/completions', chat],
    ['completions', { model: 'sim-local', prompt: 'how many tokens was that?' }],
  ])('streams /v1/%s without a usage chunk or "usage":null, though include_usage is asked', async (path, body) => {
    const stream = await postAndReadEvents(`${simulator.baseUrl}/${path}`, { ...body, ...includeUsage });

    const chunks = stream.events.slice(0, -1);
    expect(stream.events.at(-1)).toBe('[DONE]');
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks.every((chunk) => !chunk.includes('usage'))).toBe(true);
    // The last chunk is the finish chunk, not a usage chunk without choices.
    expect(JSON.parse(chunks.at(-1) ?? '{}')).toMatchObject({ choices: [{ finish_reason: 'stop' }] });
  });

  it('reports nothing to the usage ledger, while another model on the same simulator still does', async () => {
    simulator.reset();
    await requestJson(`${simulator.baseUrl}/chat/completions`, { body: chat });
    await postAndReadEvents(`${simulator.baseUrl}/chat/completions`, { ...chat, ...includeUsage });
    const cloud = await requestJson(`${simulator.baseUrl}/chat/completions`, { body: { ...chat, model: 'sim-cloud' } });

    expect(cloud.body).toMatchObject({ usage: { prompt_tokens: 10, completion_tokens: 16 } });
    expect(simulator.stats).toMatchObject({ completed: 3, usage: { answers: 1, promptTokens: 10, completionTokens: 16 } });
  });
});
