import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../simulator.js';
import type { Simulator } from '../types.js';
import { formatJson, restylePayload } from './json-style.js';

describe('formatJson', () => {
  const value = { id: 'c1', choices: [], usage: { prompt_tokens: 9, completion_tokens: 2 }, note: 'a: b, c' };

  it('writes the spaced style as Python json.dumps does, on one line', () => {
    expect(formatJson(value, 'spaced')).toBe('{"id": "c1", "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 2}, "note": "a: b, c"}');
  });

  it('writes the indented style over several lines, and every style parses back to the value', () => {
    expect(formatJson(value, 'indented').split('\n').length).toBeGreaterThan(5);
    for (const style of ['compact', 'spaced', 'indented'] as const) expect(JSON.parse(formatJson(value, style))).toEqual(value);
  });

  it('leaves payloads that are not JSON as they are', () => {
    expect(restylePayload('[DONE]', 'indented')).toBe('[DONE]');
    expect(restylePayload('{not json', 'spaced')).toBe('{not json');
  });
});

/** The raw text of a streamed chat answer. */
async function rawStream(simulator: Simulator, model: string): Promise<string> {
  const response = await fetch(`${simulator.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hi' }] }),
  });
  return response.text();
}

describe('a model with a jsonStyle', () => {
  let simulator: Simulator;
  let client: OpenAI;
  beforeAll(async () => {
    simulator = await startSimulator({
      models: [
        { id: 'sim-compact', outputTokens: 5 },
        { id: 'sim-spaced', outputTokens: 5, jsonStyle: 'spaced' },
        { id: 'sim-indented', outputTokens: 5, jsonStyle: 'indented' },
      ],
    });
    client = new OpenAI({ apiKey: 'test-key', baseURL: simulator.baseUrl, maxRetries: 0 });
  });
  afterAll(() => simulator.close());

  it('sends spaced JSON on one data line per event, usage chunk included', async () => {
    const text = await rawStream(simulator, 'sim-spaced');
    const events = text.split('\n\n').filter((event) => event !== '');
    for (const event of events) expect(event.split('\n')).toHaveLength(1);
    expect(text).toContain('"usage": {"prompt_tokens": ');
    expect(text).not.toContain('"usage":{');
  });

  it('sends indented JSON as several data lines per event', async () => {
    const text = await rawStream(simulator, 'sim-indented');
    const usageEvent = text.split('\n\n').find((event) => event.includes('"prompt_tokens"'));
    expect(usageEvent?.split('\n').length).toBeGreaterThan(3);
    expect(usageEvent?.split('\n').every((line) => line.startsWith('data: '))).toBe(true);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('streams what it answers whole in every style, read by the openai client', async () => {
    for (const model of ['sim-compact', 'sim-spaced', 'sim-indented']) {
      const whole = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }] });
      const stream = await client.chat.completions.create({ model, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hi' }] });
      let content = '';
      let usage;
      for await (const chunk of stream) {
        content += chunk.choices[0]?.delta.content ?? '';
        usage = chunk.usage ?? usage;
      }
      expect(content).toBe(whole.choices[0]?.message.content);
      expect(usage).toEqual(whole.usage);
      expect(usage?.completion_tokens).toBe(5);
    }
  });

  it('writes whole answers in its style', async () => {
    const response = await fetch(`${simulator.baseUrl}/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sim-spaced', input: 'Hi' }),
    });
    expect(await response.text()).toMatch(/^\{"object": "list", "data": \[\{"object": "embedding", "index": 0, "embedding": \[/);
  });
});
