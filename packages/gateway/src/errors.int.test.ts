import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PROTOTYPE_MEMBER_NAMES } from '../../shared/src/test-support/prototype-member-names.js';
import { captureApiError, startHarness, type Harness } from './test-support/harness.js';

interface RawResponse {
  status: number;
  statusMessage: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A plain HTTP request, so that tests can send what no SDK would. */
function send(url: string, options: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(options.path, url);
    const outgoing = httpRequest(target, { method: options.method ?? 'POST', headers: options.headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, statusMessage: response.statusMessage ?? '', headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

const json = { 'content-type': 'application/json' };
const goodBody = JSON.stringify({ model: 'sim-model', messages: [{ role: 'user', content: 'hi' }] });

function expectOpenAIError(response: RawResponse, status: number): { message: string; type: string; param: string | null; code: string | null } {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  const parsed = JSON.parse(response.body) as { error: { message: string; type: string; param: string | null; code: string | null } };
  expect(Object.keys(parsed)).toEqual(['error']);
  expect(Object.keys(parsed.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(parsed.error.message.length).toBeGreaterThan(0);
  expect(response.body).not.toMatch(/at \w+ \(|<html|node_modules/);
  return parsed.error;
}

/** Each name as the model of every route that takes one, and as the strategy header: 404 or 400, never 500. */
const prototypeMemberCases = PROTOTYPE_MEMBER_NAMES.flatMap((name) => {
  const chat = JSON.stringify({ model: name, messages: [{ role: 'user', content: 'hi' }] });
  return [
    { name: `model ${name} on chat completions`, status: 404, param: 'model', body: chat },
    { name: `model ${name} on completions`, status: 404, param: 'model', path: '/v1/completions', body: JSON.stringify({ model: name, prompt: 'hi' }) },
    { name: `model ${name} on embeddings`, status: 404, param: 'model', path: '/v1/embeddings', body: JSON.stringify({ model: name, input: 'hi' }) },
    { name: `model ${name} on the explain endpoint`, status: 404, param: 'model', path: '/v1/router/explain', body: chat },
    { name: `model ${name} on GET /v1/models/{model}`, status: 404, param: 'model', method: 'GET', path: `/v1/models/${name}` },
    { name: `strategy ${name} in x-dosrouter-strategy`, status: 400, param: 'x-dosrouter-strategy', headers: { ...json, 'x-dosrouter-strategy': name }, body: goodBody },
  ];
});

describe('bad input', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({
      models: [{ id: 'sim-model' }],
      configure: (config) => {
        // Shape limits below their defaults, so that bodies past them fit in the 64 KB body limit.
        config.server = { bodyLimit: '64kb', bodyLimits: { maxObjectKeys: 1_000, maxArrayElements: 2_000, maxValues: 5_000, maxKeys: 3_000, maxDistinctKeys: 2_000 } };
      },
    });
  });
  afterAll(() => harness.close());

  const chatWith = (extra: string): string => `{"model":"sim-model","messages":[{"role":"user","content":"hi"}],${extra}}`;
  const corpus: {
    name: string;
    status: number;
    param?: string;
    code?: string;
    /** Words the message must contain. */
    message?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    path?: string;
    method?: string;
  }[] = [
    ...prototypeMemberCases,
    { name: 'invalid JSON', status: 400, body: '{"model": "sim-model", "messages": [' },
    { name: 'a JSON array', status: 400, body: '[1,2,3]' },
    { name: 'a JSON string', status: 400, body: '"hello"' },
    { name: 'JSON null', status: 400, body: 'null' },
    { name: 'an empty body', status: 400, body: '' },
    { name: 'invalid UTF-8 bytes', status: 400, body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) },
    { name: 'no model', status: 400, param: 'model', body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }) },
    { name: 'a numeric model', status: 400, param: 'model', body: JSON.stringify({ model: 42, messages: [] }) },
    { name: 'an empty model', status: 400, param: 'model', body: JSON.stringify({ model: ' ', messages: [{ role: 'user', content: 'hi' }] }) },
    { name: 'no messages', status: 400, param: 'messages', body: JSON.stringify({ model: 'sim-model' }) },
    { name: 'messages as an object', status: 400, param: 'messages', body: JSON.stringify({ model: 'sim-model', messages: { role: 'user' } }) },
    { name: 'empty messages', status: 400, param: 'messages', body: JSON.stringify({ model: 'sim-model', messages: [] }) },
    { name: 'a message that is a string', status: 400, param: 'messages[0]', body: JSON.stringify({ model: 'sim-model', messages: ['hi'] }) },
    { name: 'an unknown role', status: 400, param: 'messages[0].role', body: JSON.stringify({ model: 'sim-model', messages: [{ role: 'wizard', content: 'hi' }] }) },
    { name: 'numeric content', status: 400, param: 'messages[0].content', body: JSON.stringify({ model: 'sim-model', messages: [{ role: 'user', content: 7 }] }) },
    { name: 'stream as a string', status: 400, param: 'stream', body: JSON.stringify({ model: 'sim-model', messages: [{ role: 'user', content: 'hi' }], stream: 'yes' }) },
    { name: 'stream_options without stream', status: 400, param: 'stream_options', body: JSON.stringify({ model: 'sim-model', messages: [{ role: 'user', content: 'hi' }], stream_options: { include_usage: true } }) },
    { name: 'n of zero', status: 400, param: 'n', body: JSON.stringify({ model: 'sim-model', messages: [{ role: 'user', content: 'hi' }], n: 0 }) },
    { name: 'max_tokens of -1', status: 400, param: 'max_tokens', body: JSON.stringify({ model: 'sim-model', messages: [{ role: 'user', content: 'hi' }], max_tokens: -1 }) },
    { name: 'an unknown model', status: 404, param: 'model', body: JSON.stringify({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }) },
    // 20,000 levels (40 KB) made JSON.stringify throw inside the breaker, which counted it against the backend.
    { name: 'a body nested 20,000 levels deep', status: 400, code: 'body_too_complex', message: 'limit of 64 (server.bodyLimits.maxDepth)', body: chatWith(`"x":${'['.repeat(20_000)}${']'.repeat(20_000)}`) },
    { name: 'objects nested 65 levels deep', status: 400, code: 'body_too_complex', message: 'server.bodyLimits.maxDepth', body: chatWith(`"x":${'{"a":'.repeat(65)}1${'}'.repeat(65)}`) },
    { name: 'an object with more keys than allowed', status: 400, code: 'body_too_complex', message: 'limit of 1000 (server.bodyLimits.maxObjectKeys)', body: chatWith(`"metadata":{${Array.from({ length: 1_001 }, (_, index) => `"k${index}":0`).join(',')}}`) },
    { name: 'an array with more elements than allowed', status: 400, code: 'body_too_complex', message: 'limit of 2000 (server.bodyLimits.maxArrayElements)', body: chatWith(`"stop":[${Array(2_001).fill(0).join(',')}]`) },
    { name: 'more values in all than allowed', status: 400, code: 'body_too_complex', message: 'limit of 5000 (server.bodyLimits.maxValues)', body: chatWith(`"x":[${Array(4).fill(`[${Array(1_500).fill(0).join(',')}]`).join(',')}]`) },
    { name: 'more keys in all than allowed', status: 400, code: 'body_too_complex', message: 'limit of 3000 (server.bodyLimits.maxKeys)', body: chatWith(`"x":[${Array(301).fill(`{${Array.from({ length: 10 }, (_, key) => `"k${key}":0`).join(',')}}`).join(',')}]`) },
    { name: 'more distinct key names than allowed', status: 400, code: 'body_too_complex', message: 'limit of 2000 (server.bodyLimits.maxDistinctKeys)', body: chatWith(`"x":[${Array.from({ length: 201 }, (_, object) => `{${Array.from({ length: 10 }, (_, key) => `"k${object}_${key}":0`).join(',')}}`).join(',')}]`) },
    { name: 'a body over the limit', status: 413, body: JSON.stringify({ model: 'sim-model', messages: [{ role: 'user', content: 'x'.repeat(70_000) }] }) },
    { name: 'a text/plain body', status: 415, headers: { 'content-type': 'text/plain' }, body: goodBody },
    { name: 'a form body', status: 415, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'model=sim-model' },
    { name: 'no content type', status: 415, headers: {}, body: goodBody },
    { name: 'an unknown path', status: 404, path: '/v1/nothing-here', body: goodBody },
    { name: 'GET on a POST route', status: 404, method: 'GET', path: '/v1/chat/completions' },
    { name: 'embeddings without input', status: 400, param: 'input', path: '/v1/embeddings', body: JSON.stringify({ model: 'sim-model' }) },
    { name: 'a completion with a numeric prompt', status: 400, param: 'prompt', path: '/v1/completions', body: JSON.stringify({ model: 'sim-model', prompt: 5 }) },
  ];

  for (const entry of corpus) {
    it(`answers ${entry.name} with an OpenAI-shaped ${entry.status}`, async () => {
      const response = await send(harness.gateway.url, {
        path: entry.path ?? '/v1/chat/completions',
        method: entry.method,
        headers: entry.headers ?? json,
        body: entry.body,
      });
      const error = expectOpenAIError(response, entry.status);
      if (entry.param) expect(error.param).toBe(entry.param);
      if (entry.code) expect(error.code).toBe(entry.code);
      if (entry.message) expect(error.message).toContain(entry.message);
      expect(response.headers['x-should-retry']).toBe('false');
    });
  }

  it('answers oversized headers with 431 and keeps serving', async () => {
    const response = await send(harness.gateway.url, { path: '/v1/chat/completions', headers: { ...json, 'x-big': 'y'.repeat(40_000) }, body: goodBody });
    expect(response.status).toBe(431);
    expect(response.statusMessage).toBe('Request Header Fields Too Large');
  });

  it('survives malformed HTTP on a raw socket', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(harness.gateway.port, '127.0.0.1', () => socket.write('NONSENSE / HTTP/9.9\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
  });

  it('survives a client that hangs up in the middle of its body', async () => {
    await new Promise<void>((resolve, reject) => {
      const socket = connect(harness.gateway.port, '127.0.0.1', () => {
        socket.write('POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"model":');
        setTimeout(() => socket.destroy(), 50);
      });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    const response = await send(harness.gateway.url, { path: '/v1/chat/completions', headers: json, body: goodBody });
    expect(response.status).toBe(200);
  });

  it('still answers a good request after the whole corpus', async () => {
    const completion = await harness.client().chat.completions.create({ model: 'sim-model', messages: [{ role: 'user', content: 'still there?' }] });
    expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
  });
});

describe('errors as the official SDK sees them', () => {
  // A fresh gateway per test: a backend 429 or 5xx can open the deployment's circuit, which must not leak.
  let harness: Harness;
  beforeEach(async () => {
    // One attempt: these tests check how a backend's error reaches the client, not how the gateway retries it.
    harness = await startHarness({ models: [{ id: 'sim-model' }], configure: (config) => void (config.routing = { retry: { attempts: 1 } }) });
  });
  afterEach(() => harness.close());
  const messages = [{ role: 'user' as const, content: 'hello' }];

  it('raises NotFoundError for an unknown model', async () => {
    const error = await captureApiError(harness.client().chat.completions.create({ model: 'gpt-9', messages }));
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error.code).toBe('model_not_found');
    expect(error.param).toBe('model');
  });

  it('raises BadRequestError for a malformed request', async () => {
    const error = await captureApiError(harness.client().chat.completions.create({ model: 'sim-model', messages: [] }));
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
  });

  describe('when the backend answers 429 with retry-after', () => {
    it('passes RateLimitError with retry-after and x-should-retry', async () => {
      harness.simulator.injectFaults({ kind: 'rate_limit', retryAfterSeconds: 3 });
      const error = await captureApiError(harness.client().chat.completions.create({ model: 'sim-model', messages }));
      expect(error).toBeInstanceOf(OpenAI.RateLimitError);
      const headers = error.headers;
      expect(headers.get('retry-after')).toBe('3');
      expect(headers.get('x-should-retry')).toBe('true');
    });

    it('opens the deployment’s circuit for that long and says so, when the wait is longer than worth waiting', async () => {
      await harness.close();
      harness = await startHarness({
        models: [{ id: 'sim-model' }],
        configure: (config) => void (config.routing = { retry: { attempts: 1, maxRetryAfterMs: 1000 } }),
      });
      harness.simulator.injectFaults({ kind: 'rate_limit', retryAfterSeconds: 5 });
      await captureApiError(harness.client().chat.completions.create({ model: 'sim-model', messages }));
      const error = await captureApiError(harness.client().chat.completions.create({ model: 'sim-model', messages }));
      expect(error.status).toBe(503);
      expect(error.code).toBe('circuit_open');
      expect(Number(error.headers.get('retry-after'))).toBeGreaterThanOrEqual(4);
      expect(harness.simulator.stats.requests).toBe(1);
    });

    it('waits out a retry-after that fits for the requested model’s only deployment, and answers', async () => {
      harness.simulator.injectFaults({ kind: 'rate_limit', retryAfterSeconds: 1 });
      await captureApiError(harness.client().chat.completions.create({ model: 'sim-model', messages }));
      const started = Date.now();
      const completion = await harness.client({ maxRetries: 0 }).chat.completions.create({ model: 'sim-model', messages });
      expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
      // The gateway waited for the circuit the 429 opened rather than refusing; the backend was asked twice in all.
      expect(Date.now() - started).toBeGreaterThanOrEqual(500);
      expect(harness.simulator.stats.requests).toBe(2);
    });

    it('lets the SDK honour the retry and succeed', async () => {
      harness.simulator.injectFaults({ kind: 'rate_limit', retryAfterSeconds: 1 });
      const started = Date.now();
      const completion = await harness.client({ maxRetries: 2 }).chat.completions.create({ model: 'sim-model', messages });
      expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    });
  });

  it('passes a backend 500 with its message, marked retryable', async () => {
    harness.simulator.injectFaults({ kind: 'server_error' });
    const error = await captureApiError(harness.client().chat.completions.create({ model: 'sim-model', messages }));
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(error.headers.get('x-should-retry')).toBe('true');
  });

  it('passes a backend 400 as not retryable', async () => {
    harness.simulator.injectFaults({ kind: 'bad_request' });
    const error = await captureApiError(harness.client().chat.completions.create({ model: 'sim-model', messages }));
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.headers.get('x-should-retry')).toBe('false');
  });
});
