import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { postAndReadEvents, requestJson } from './test-support/read-event-stream.js';
import { startSimulator } from './simulator.js';
import type { Simulator } from './types.js';

const question = { model: 'sim-fast', messages: [{ role: 'user' as const, content: 'Which route is fastest?' }] };

describe('startSimulator', () => {
  let simulator: Simulator;
  let client: OpenAI;

  beforeAll(async () => {
    simulator = await startSimulator({
      apiKey: 'sk-sim-secret',
      recordRequests: 3,
      models: [{ id: 'sim-fast' }, { id: 'sim-slow', firstTokenDelayMs: 5, interTokenDelayMs: 20, outputTokens: 50 }],
    });
    client = new OpenAI({ apiKey: 'sk-sim-secret', baseURL: simulator.baseUrl, maxRetries: 0 });
  });

  afterAll(async () => {
    await simulator.close();
  });

  it('listens on an ephemeral port of 127.0.0.1 and exposes the /v1 base URL', () => {
    expect(simulator.port).toBeGreaterThan(0);
    expect(simulator.baseUrl).toBe(`http://127.0.0.1:${simulator.port}/v1`);
  });

  describe('when an API key is configured', () => {
    it('answers 401 authentication_error without an Authorization header', async () => {
      const response = await requestJson(`${simulator.baseUrl}/models`);

      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ error: { type: 'authentication_error', code: 'invalid_api_key' } });
    });

    it('answers 401 to a wrong key without echoing it', async () => {
      const wrongClient = new OpenAI({ apiKey: 'sk-wrong', baseURL: simulator.baseUrl, maxRetries: 0 });

      const error: unknown = await wrongClient.chat.completions.create(question).catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(String((error as Error).message)).not.toContain('sk-wrong');
    });

    it('answers requests that send the key', async () => {
      await expect(client.chat.completions.create(question)).resolves.toMatchObject({ object: 'chat.completion' });
    });
  });

  describe('GET /v1/models', () => {
    it('lists the configured models', async () => {
      const page = await client.models.list();

      expect(page.data.map((model) => model.id)).toEqual(['sim-fast', 'sim-slow']);
      expect(page.data[0]).toEqual({
        id: 'sim-fast',
        object: 'model',
        created: expect.any(Number),
        owned_by: 'dosrouter-sim',
        // Anthropic's fields, for its clients (and the prober's models probe of a kind: anthropic backend).
        type: 'model',
        display_name: 'sim-fast',
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
    });

    it('lists them to an Anthropic client, which authenticates with x-api-key (or as Bearer) and names an anthropic-version', async () => {
      const list = (headers: Record<string, string>) => fetch(`${simulator.baseUrl}/models`, { headers });
      const refused = await list({ 'anthropic-version': '2023-06-01', 'x-api-key': 'wrong' });
      expect(refused.status).toBe(401);
      expect((await list({ 'anthropic-version': '2023-06-01', authorization: 'Bearer sk-sim-secret' })).status).toBe(200);
      expect(await refused.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
      const listed = await list({ 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-sim-secret' });
      expect(await listed.json()).toMatchObject({ data: [{ type: 'model', id: 'sim-fast' }, { id: 'sim-slow' }], has_more: false, first_id: 'sim-fast', last_id: 'sim-slow' });
    });

    it('retrieves one model and answers 404 model_not_found for others', async () => {
      await expect(client.models.retrieve('sim-slow')).resolves.toMatchObject({ id: 'sim-slow' });
      await expect(client.models.retrieve('gpt-4o')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    });
  });

  describe('when a request is invalid', () => {
    const headers = { authorization: 'Bearer sk-sim-secret' };

    it('answers 404 model_not_found for an unknown model', async () => {
      const response = await requestJson(`${simulator.baseUrl}/chat/completions`, {
        headers,
        body: { ...question, model: 'x' },
      });

      expect(response.status).toBe(404);
      expect(response.body).toEqual({
        error: {
          message: 'The model `x` does not exist',
          type: 'invalid_request_error',
          param: 'model',
          code: 'model_not_found',
        },
      });
    });

    it('answers 400 invalid_request_error for a body that is not JSON', async () => {
      const response = await requestJson(`${simulator.baseUrl}/chat/completions`, { headers, rawBody: '{"model":' });

      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: { type: 'invalid_request_error' } });
    });

    it('answers 400 naming messages when they are missing', async () => {
      const response = await requestJson(`${simulator.baseUrl}/chat/completions`, { headers, body: { model: 'sim-fast' } });

      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: { type: 'invalid_request_error', param: 'messages' } });
    });

    it('answers 400 naming n when it is out of range', async () => {
      const response = await requestJson(`${simulator.baseUrl}/chat/completions`, { headers, body: { ...question, n: 9 } });

      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: { param: 'n' } });
    });

    it('answers an OpenAI-shaped 404 for an unknown path', async () => {
      const response = await requestJson(`${simulator.baseUrl}/assistants`, { headers });

      expect(response.status).toBe(404);
      expect(response.body).toEqual({
        error: { message: 'Invalid URL (GET /v1/assistants)', type: 'invalid_request_error', param: null, code: null },
      });
    });
  });

  it('answers GET /healthz with 200 and no API key', async () => {
    const response = await requestJson(`http://127.0.0.1:${simulator.port}/healthz`);

    expect(response.status).toBe(200);
  });

  describe('recentRequests()', () => {
    it('keeps the last recordRequests requests, newest last, with lower-case headers and the parsed body', async () => {
      for (const content of ['one', 'two', 'three', 'four']) {
        await client.chat.completions.create({ ...question, messages: [{ role: 'user', content }] }, { headers: { 'X-Trace-Id': content } });
      }

      const recorded = simulator.recentRequests();

      expect(recorded.map((request) => request.headers['x-trace-id'])).toEqual(['two', 'three', 'four']);
      expect(recorded.at(-1)).toMatchObject({
        method: 'POST',
        path: '/v1/chat/completions',
        headers: { authorization: 'Bearer sk-sim-secret', 'content-type': 'application/json' },
        body: { model: 'sim-fast', messages: [{ role: 'user', content: 'four' }] },
        receivedAt: expect.any(Number),
      });
    });
  });

  describe('when the client aborts a stream', () => {
    it('stops generating and counts the request as aborted', async () => {
      simulator.reset();
      const controller = new AbortController();
      const stream = await client.chat.completions.create(
        { ...question, model: 'sim-slow', stream: true },
        { signal: controller.signal },
      );
      let chunks = 0;
      for await (const chunk of stream) {
        expect(chunk.object).toBe('chat.completion.chunk');
        chunks += 1;
        if (chunks === 3) {
          controller.abort();
        }
      }

      await vi.waitFor(() => expect(simulator.stats.aborted).toBe(1), { timeout: 10_000 });
      expect(simulator.stats).toMatchObject({ requests: 1, completed: 0, byModel: { 'sim-slow': 1 } });
    });
  });

  describe('reset()', () => {
    it('clears stats, queued faults and recorded requests', async () => {
      simulator.injectFaults({ kind: 'server_error', count: 5 });
      await client.chat.completions.create(question).catch(() => undefined);

      simulator.reset();

      expect(simulator.stats).toEqual({
        requests: 0,
        completed: 0,
        aborted: 0,
        faults: {},
        byModel: {},
        byHttpVersion: {},
        usage: { answers: 0, promptTokens: 0, completionTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
      });
      expect(simulator.recentRequests()).toEqual([]);
      await expect(client.chat.completions.create(question)).resolves.toMatchObject({ object: 'chat.completion' });
    });
  });

  describe('injectFaults()', () => {
    it('rejects an unknown kind and a model the simulator does not serve, naming the field', () => {
      expect(() => simulator.injectFaults({ kind: 'melt' as 'hang' })).toThrow(/kind/);
      expect(() => simulator.injectFaults({ kind: 'hang', model: 'gpt-4o' })).toThrow(/model/);
    });
  });
});

describe('two simulators started with the same models', () => {
  it('answer the same request with the same text, streamed or not', async () => {
    const options = { models: [{ id: 'sim-fast', outputTokens: 10 }] };
    const first = await startSimulator(options);
    const second = await startSimulator({ ...options, seed: 99 });
    try {
      const body = { ...question, n: 2 };
      const firstAnswer = await requestJson(`${first.baseUrl}/chat/completions`, { body });
      const secondAnswer = await requestJson(`${second.baseUrl}/chat/completions`, { body });
      const streamed = await postAndReadEvents(`${second.baseUrl}/chat/completions`, { ...body, stream: true });

      type Completion = { choices: Array<{ message: { content: string } }> };
      const contents = (answer: unknown): string[] => (answer as Completion).choices.map((choice) => choice.message.content);
      expect(contents(secondAnswer.body)).toEqual(contents(firstAnswer.body));
      const streamedFirstChoice = streamed.events
        .filter((event) => event.startsWith('{'))
        .map((event) => JSON.parse(event) as { choices: Array<{ index: number; delta: { content?: string } }> })
        .filter((chunk) => chunk.choices[0]?.index === 0)
        .map((chunk) => chunk.choices[0]?.delta.content ?? '')
        .join('');
      expect(streamedFirstChoice).toBe(contents(firstAnswer.body)[0]);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});

describe('when the options are invalid', () => {
  it('rejects, naming the bad field', async () => {
    await expect(startSimulator({ models: [{ id: 'sim-fast', interTokenDelayMs: -1 }] })).rejects.toThrow(
      /models\.0\.interTokenDelayMs/,
    );
    await expect(startSimulator({ models: [] })).rejects.toThrow(/models/);
  });
});
