import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startSimulator } from '../../simulator.js';
import { postAndReadEvents, requestJson } from '../../test-support/read-event-stream.js';
import type { Simulator } from '../../types.js';

const HEADERS = { 'anthropic-version': '2023-06-01' };
const question = { model: 'sim-claude', max_tokens: 100, messages: [{ role: 'user', content: 'tell me a story' }] };

describe('the simulator faults on POST /v1/messages', () => {
  let simulator: Simulator;
  let url: string;

  beforeAll(async () => {
    simulator = await startSimulator({ models: [{ id: 'sim-claude', outputTokens: 20 }] });
    url = `${simulator.baseUrl}/messages`;
  });

  afterEach(() => {
    simulator.reset();
  });

  afterAll(async () => {
    await simulator.close();
  });

  it.each([
    ['overloaded', 529, 'overloaded_error'],
    ['rate_limit', 429, 'rate_limit_error'],
    ['server_error', 500, 'api_error'],
    ['unavailable', 503, 'api_error'],
    ['bad_request', 400, 'invalid_request_error'],
  ] as const)('answers a %s fault with %i %s in Anthropic shape', async (kind, status, type) => {
    simulator.injectFaults({ kind, retryAfterSeconds: 7 });
    const result = await requestJson(url, { body: question, headers: HEADERS });
    expect(result.status).toBe(status);
    expect(result.body).toEqual({ type: 'error', error: { type, message: expect.any(String) }, request_id: expect.stringMatching(/^req_/) });
    if (status === 429) {
      expect(result.headers.get('retry-after')).toBe('7');
    }
  });

  it('answers an outage in Anthropic shape before checking the headers', async () => {
    simulator.setOutage({ mode: 'error', status: 529 });
    const result = await requestJson(url, { body: question });
    expect(result.status).toBe(529);
    expect(result.body).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
  });

  it('cuts a stream after about half its events, without message_stop', async () => {
    simulator.injectFaults({ kind: 'stream_cut' });
    const result = await postAndReadEvents(url, { ...question, stream: true }, { headers: HEADERS });
    expect(result.ending).toBe('broken');
    expect(result.eventNames).not.toContain('message_stop');
    // message_start, block start, ping, 20 deltas, block stop, message_delta: the cut comes after 12 of those 25.
    expect(result.events).toHaveLength(12);
  });

  it('slips a broken content_block_delta into a stream with malformed_chunk, named so that SDKs parse it', async () => {
    simulator.injectFaults({ kind: 'malformed_chunk' });
    const result = await postAndReadEvents(url, { ...question, stream: true }, { headers: HEADERS });
    const broken = result.events.indexOf('{not json');
    expect(broken).toBeGreaterThan(0);
    expect(result.eventNames[broken]).toBe('content_block_delta');
    expect(simulator.stats.usage.answers).toBe(0);
  });

  it('resets the connection with a reset fault, and never answers with a hang fault until the client gives up', async () => {
    simulator.injectFaults({ kind: 'reset' });
    await expect(requestJson(url, { body: question, headers: HEADERS })).rejects.toThrow();
    simulator.injectFaults({ kind: 'hang' });
    const controller = new AbortController();
    const pending = fetch(url, { method: 'POST', headers: HEADERS, body: JSON.stringify(question), signal: controller.signal });
    await vi.waitFor(() => expect(simulator.stats.faults['hang']).toBe(1), { timeout: 10_000 });
    controller.abort();
    await expect(pending).rejects.toThrow();
    await vi.waitFor(() => expect(simulator.stats.aborted).toBe(1), { timeout: 10_000 });
    expect(simulator.stats.faults).toEqual({ reset: 1, hang: 1 });
  });

  it('answers no content block with the empty fault', async () => {
    simulator.injectFaults({ kind: 'empty' });
    const result = await requestJson(url, { body: question, headers: HEADERS });
    expect(result.body).toMatchObject({ content: [], stop_reason: 'end_turn', usage: { output_tokens: 0 } });
  });
});
