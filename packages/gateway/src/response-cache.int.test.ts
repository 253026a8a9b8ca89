import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordTestSecret } from '../../shared/src/test-support/log-archive.js';
import { accessLineOf, captureApiError, createClientKey, eventually, startHarness, type Harness } from './test-support/harness.js';

const ADMIN_KEY = `admin-${randomBytes(12).toString('hex')}`;
recordTestSecret(ADMIN_KEY);
/** $1 per million prompt tokens, $2 per million completion tokens: a hit saves what the first answer cost. */
const PRICING = { inputPerMTok: 1, outputPerMTok: 2 };

type Document = { backends: { models: Record<string, unknown>[] }[]; cache?: Record<string, unknown>; routing?: Record<string, unknown> };

async function startCachingHarness(cache: Record<string, unknown>): Promise<Harness> {
  return startHarness({
    models: [{ id: 'cached', outputTokens: 12 }, { id: 'uncached', outputTokens: 12 }],
    adminKey: ADMIN_KEY,
    configure: (config) => {
      const document = config as unknown as Document;
      for (const model of document.backends[0]!.models) model.pricing = PRICING;
      document.cache = { enabled: true, models: ['cached'], ...cache };
      // A broken stream ends with the error event (not continued elsewhere): what must never be stored.
      document.routing = { recovery: 'off', retry: { attempts: 1 } };
      // A small completion estimate: what admission reserves for a request without max_tokens.
      (document as { limits?: unknown }).limits = { completionTokensEstimate: 20 };
    },
  });
}

const clientOf = (harness: Harness, apiKey: string) => new OpenAI({ apiKey, baseURL: `${harness.gateway.url}/v1`, maxRetries: 0, timeout: 20_000 });

describe('the response cache in embedded mode', () => {
  let harness: Harness;
  let keyA: string;
  let keyB: string;
  let openai: OpenAI;
  beforeAll(async () => {
    harness = await startCachingHarness({});
    keyA = (await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'a' })).secret;
    keyB = (await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'b' })).secret;
    openai = clientOf(harness, keyA);
  });
  afterAll(() => harness.close());
  beforeEach(() => harness.simulator.reset());

  const question = (text: string) => ({ model: 'cached', temperature: 0, messages: [{ role: 'user' as const, content: text }] });

  it('serves the second identical request from the cache, with the same answer, without asking the backend', async () => {
    const first = await openai.chat.completions.create(question('colours?')).withResponse();
    const second = await openai.chat.completions.create(question('colours?')).withResponse();
    expect(first.response.headers.get('x-dosrouter-cache')).toBe('miss');
    expect(second.response.headers.get('x-dosrouter-cache')).toBe('hit');
    expect(second.data).toEqual(first.data);
    expect(harness.simulator.stats.requests).toBe(1);
  });

  it('replays a stream as the same events, usage chunk and end included', async () => {
    const collect = async () => {
      const { data, response } = await openai.chat.completions.create({ ...question('stream please'), stream: true, stream_options: { include_usage: true } }).withResponse();
      const chunks: unknown[] = [];
      for await (const chunk of data) chunks.push(chunk);
      return { chunks, cache: response.headers.get('x-dosrouter-cache') };
    };
    const live = await collect();
    const replayed = await collect();
    expect(live.cache).toBe('miss');
    expect(replayed.cache).toBe('hit');
    expect(replayed.chunks).toEqual(live.chunks);
    expect(replayed.chunks.length).toBeGreaterThan(3);
    expect((replayed.chunks.at(-1) as { usage?: { completion_tokens: number } }).usage?.completion_tokens).toBe(12);
    // A stream and a whole answer to the same question are different entries.
    const whole = await openai.chat.completions.create(question('stream please')).withResponse();
    expect(whole.response.headers.get('x-dosrouter-cache')).toBe('miss');
    expect(harness.simulator.stats.requests).toBe(2);
  });

  it('keeps one key’s answers from another key under scope: key', async () => {
    await openai.chat.completions.create(question('scoped'));
    const other = await clientOf(harness, keyB).chat.completions.create(question('scoped')).withResponse();
    expect(other.response.headers.get('x-dosrouter-cache')).toBe('miss');
    expect(harness.simulator.stats.requests).toBe(2);
  });

  it('bypasses and refreshes on the client’s header and cache-control', async () => {
    await openai.chat.completions.create(question('headers'));
    const bypassed = await openai.chat.completions.create(question('headers'), { headers: { 'x-dosrouter-cache': 'bypass' } }).withResponse();
    expect(bypassed.response.headers.get('x-dosrouter-cache')).toBe('bypass');
    const noStore = await openai.chat.completions.create(question('headers'), { headers: { 'cache-control': 'no-store' } }).withResponse();
    expect(noStore.response.headers.get('x-dosrouter-cache')).toBe('bypass');
    const refreshed = await openai.chat.completions.create(question('headers'), { headers: { 'x-dosrouter-cache': 'refresh' } }).withResponse();
    expect(refreshed.response.headers.get('x-dosrouter-cache')).toBe('miss');
    const noCache = await openai.chat.completions.create(question('headers'), { headers: { 'cache-control': 'no-cache' } }).withResponse();
    expect(noCache.response.headers.get('x-dosrouter-cache')).toBe('miss');
    expect(harness.simulator.stats.requests).toBe(5);
    const hit = await openai.chat.completions.create(question('headers')).withResponse();
    expect(hit.response.headers.get('x-dosrouter-cache')).toBe('hit');
    expect(harness.simulator.stats.requests).toBe(5);
  });

  it('turns the cache on for one request with `use`, and answers 400 to an unknown header value', async () => {
    const body = { model: 'uncached', temperature: 0, messages: [{ role: 'user' as const, content: 'opt in' }] };
    const plain = await openai.chat.completions.create(body).withResponse();
    expect(plain.response.headers.get('x-dosrouter-cache')).toBeNull();
    await openai.chat.completions.create(body, { headers: { 'x-dosrouter-cache': 'use' } });
    const hit = await openai.chat.completions.create(body, { headers: { 'x-dosrouter-cache': 'use' } }).withResponse();
    expect(hit.response.headers.get('x-dosrouter-cache')).toBe('hit');
    const error = await captureApiError(openai.chat.completions.create(body, { headers: { 'x-dosrouter-cache': 'always' } }));
    expect(error.status).toBe(400);
    expect(error.error).toMatchObject({ code: 'invalid_value', param: 'x-dosrouter-cache' });
  });

  it('does not cache a request that is not deterministic (no seed, temperature above 0)', async () => {
    const body = { model: 'cached', temperature: 0.7, messages: [{ role: 'user' as const, content: 'creative' }] };
    const first = await openai.chat.completions.create(body).withResponse();
    expect(first.response.headers.get('x-dosrouter-cache')).toBe('bypass');
    const seeded = { ...body, seed: 7 };
    await openai.chat.completions.create(seeded);
    const hit = await openai.chat.completions.create(seeded).withResponse();
    expect(hit.response.headers.get('x-dosrouter-cache')).toBe('hit');
  });

  it('never stores an error or a broken stream', async () => {
    harness.simulator.injectFaults({ kind: 'bad_request', count: 1 });
    const error = await captureApiError(openai.chat.completions.create(question('faulty')));
    expect(error.status).toBe(400);
    const after = await openai.chat.completions.create(question('faulty')).withResponse();
    expect(after.response.headers.get('x-dosrouter-cache')).toBe('miss');

    harness.simulator.injectFaults({ kind: 'stream_cut', count: 1 });
    const broken = async () => {
      const stream = await openai.chat.completions.create({ ...question('cut short'), stream: true });
      for await (const _chunk of stream) {
        // read until the error event
      }
    };
    await expect(broken()).rejects.toThrow();
    const whole = await openai.chat.completions.create({ ...question('cut short'), stream: true }).withResponse();
    expect(whole.response.headers.get('x-dosrouter-cache')).toBe('miss');
    for await (const _chunk of whole.data) {
      // drain
    }
    expect(harness.simulator.stats.requests).toBe(4);
  });

  it('records a hit at $0 with what it saved, in the usage record, the access log and the metrics', async () => {
    const first = await openai.chat.completions.create(question('priced')).withResponse();
    const cost = Number(first.response.headers.get('x-dosrouter-cost-usd'));
    expect(cost).toBeGreaterThan(0);
    const hit = await openai.chat.completions.create(question('priced')).withResponse();
    expect(hit.response.headers.get('x-dosrouter-cost-usd')).toBe('0');
    expect(Number(hit.response.headers.get('x-dosrouter-cache-saved-usd'))).toBeCloseTo(first.data.usage!.prompt_tokens * 1e-6 + first.data.usage!.completion_tokens * 2e-6, 10);
    const line = await accessLineOf(harness.logs, hit.response as unknown as Response);
    expect(line).toMatchObject({ cache: 'hit', costUsd: 0, attempts: 0, promptTokens: 0, completionTokens: 0 });
    expect(line['savedUsd']).toBeGreaterThan(0);
    const metrics = await (await fetch(`${harness.gateway.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text();
    expect(metrics).toMatch(/dosrouter_cache_requests_total\{model="cached",result="hit"\} [1-9]/);
    expect(metrics).toMatch(/dosrouter_cache_saved_usd_total\{model="cached"\} [0-9.e-]+/);
    // The day's totals count hits and what they saved; the hits add nothing to the cost.
    let totals: { requests: number; cache_hits: number; saved_usd: number; cost_usd: number } | undefined;
    await eventually(async () => {
      const usage = (await (await fetch(`${harness.gateway.url}/admin/usage?model=cached`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).json()) as { totals: typeof totals };
      totals = usage.totals;
      return (totals?.cache_hits ?? 0) > 0;
    }, 10_000, 'the hits in the usage totals');
    expect(totals!.saved_usd).toBeGreaterThanOrEqual(cost);
    expect(totals!.cache_hits).toBeLessThan(totals!.requests);
  });

  it('serves Anthropic’s Messages API from the cache as the same Messages answer', async () => {
    const anthropic = new Anthropic({ apiKey: keyA, baseURL: harness.gateway.url, maxRetries: 0 });
    const body = { model: 'cached', max_tokens: 50, temperature: 0, messages: [{ role: 'user' as const, content: 'hello messages' }] };
    const first = await anthropic.messages.create(body).withResponse();
    const second = await anthropic.messages.create(body).withResponse();
    expect(second.response.headers.get('x-dosrouter-cache')).toBe('hit');
    expect({ ...second.data, id: '' }).toEqual({ ...first.data, id: '' });
    const streamed = async () => {
      const { data, response } = await anthropic.messages.create({ ...body, stream: true }).withResponse();
      const types: string[] = [];
      let text = '';
      for await (const event of data) {
        types.push(event.type);
        if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
      }
      return { types, text, cache: response.headers.get('x-dosrouter-cache') };
    };
    const live = await streamed();
    const replayed = await streamed();
    expect(replayed.cache).toBe('hit');
    expect(replayed.types).toEqual(live.types);
    expect(replayed.text).toBe(live.text);
    expect(harness.simulator.stats.requests).toBe(2);
  });

  it('keeps answers to different anthropic-beta headers apart (a native backend gets the header)', async () => {
    const anthropic = new Anthropic({ apiKey: keyA, baseURL: harness.gateway.url, maxRetries: 0 });
    const body = { model: 'cached', max_tokens: 50, temperature: 0, messages: [{ role: 'user' as const, content: 'beta features' }] };
    const cacheOf = async (beta?: string) =>
      (await anthropic.messages.create(body, beta ? { headers: { 'anthropic-beta': beta } } : {}).withResponse()).response.headers.get('x-dosrouter-cache');
    expect(await cacheOf()).toBe('miss');
    expect(await cacheOf('output-128k-2025-02-19')).toBe('miss');
    expect(await cacheOf('output-128k-2025-02-19')).toBe('hit');
    expect(await cacheOf()).toBe('hit');
    expect(harness.simulator.stats.requests).toBe(2);
  });

  it('flushes one model’s answers through the admin API', async () => {
    await openai.chat.completions.create(question('flush me'));
    const response = await fetch(`${harness.gateway.url}/admin/cache/models/cached`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { flushed: number }).flushed).toBeGreaterThan(0);
    const after = await openai.chat.completions.create(question('flush me')).withResponse();
    expect(after.response.headers.get('x-dosrouter-cache')).toBe('miss');
    // The same from a shell.
    const cli = fileURLToPath(new URL('../../../scripts/dosrouter.mjs', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [cli, 'cache', 'flush', '--model', 'cached'], { env: { ...process.env, DOSROUTER_URL: harness.gateway.url, DOSROUTER_ADMIN_KEY: ADMIN_KEY } });
    expect(JSON.parse(stdout)).toMatchObject({ object: 'cache.flush', model: 'cached', flushed: 1 });
    expect((await openai.chat.completions.create(question('flush me')).withResponse()).response.headers.get('x-dosrouter-cache')).toBe('miss');
  });

  it('turns the cache off (and on) for one API key', async () => {
    const created = await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'no-cache', cache: false });
    const openaiOff = clientOf(harness, created.secret);
    await openaiOff.chat.completions.create(question('per key'));
    const off = await openaiOff.chat.completions.create(question('per key'), { headers: { 'x-dosrouter-cache': 'use' } }).withResponse();
    expect(off.response.headers.get('x-dosrouter-cache')).toBeNull();
    const cli = fileURLToPath(new URL('../../../scripts/dosrouter.mjs', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [cli, 'keys', 'update', created.id, '--cache', 'on'], { env: { ...process.env, DOSROUTER_URL: harness.gateway.url, DOSROUTER_ADMIN_KEY: ADMIN_KEY } });
    expect(JSON.parse(stdout)).toMatchObject({ cache: true });
    // The key's model is not among cache.models: the key alone turns the cache on, once the replica's key cache forgets it.
    const body = { model: 'uncached', temperature: 0, messages: [{ role: 'user' as const, content: 'per key on' }] };
    await eventually(async () => (await openaiOff.chat.completions.create(body).withResponse()).response.headers.get('x-dosrouter-cache') === 'miss', 10_000, 'the key’s cache on');
    expect((await openaiOff.chat.completions.create(body).withResponse()).response.headers.get('x-dosrouter-cache')).toBe('hit');
  });
});

describe('the response cache’s limits', () => {
  it('forgets an answer when its TTL ends', async () => {
    const harness = await startCachingHarness({ ttlSeconds: 1 });
    try {
      const key = (await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'ttl' })).secret;
      const openai = clientOf(harness, key);
      const body = { model: 'cached', temperature: 0, messages: [{ role: 'user' as const, content: 'short-lived' }] };
      await openai.chat.completions.create(body);
      expect((await openai.chat.completions.create(body).withResponse()).response.headers.get('x-dosrouter-cache')).toBe('hit');
      await eventually(async () => (await openai.chat.completions.create(body).withResponse()).response.headers.get('x-dosrouter-cache') === 'miss', 10_000, 'the entry to expire');
    } finally {
      await harness.close();
    }
  });

  it('evicts the least recently used answers past its byte budget', async () => {
    const harness = await startCachingHarness({ maxEntryBytes: '4kb', maxBytes: '5kb' });
    try {
      const key = (await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'budget' })).secret;
      const openai = clientOf(harness, key);
      const ask = async (content: string) =>
        (await openai.chat.completions.create({ model: 'cached', temperature: 0, messages: [{ role: 'user', content }] }).withResponse()).response.headers.get('x-dosrouter-cache');
      // Each stored answer is 0.5 to 1 KB: 20 of them are well past the budget, so the oldest went to make room.
      for (let index = 0; index < 20; index += 1) expect(await ask(`budget question ${index}`)).toBe('miss');
      expect(await ask('budget question 19')).toBe('hit');
      expect(await ask('budget question 0')).toBe('miss');
      const metrics = await (await fetch(`${harness.gateway.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text();
      expect(metrics).toMatch(/dosrouter_cache_evictions_total [1-9]/);
    } finally {
      await harness.close();
    }
  });
});

describe('the response cache and a key’s limits', () => {
  const ask = (openai: OpenAI) =>
    openai.chat.completions
      .create({ model: 'cached', temperature: 0, messages: [{ role: 'user', content: 'limited' }] })
      .withResponse()
      .then(({ response }) => response.headers.get('x-dosrouter-cache'));

  it('counts a hit against the request rate, and gives its tokens back', async () => {
    const harness = await startCachingHarness({});
    try {
      const requests = clientOf(harness, (await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'rpm', limits: { requestsPerMinute: 3 } })).secret);
      expect([await ask(requests), await ask(requests), await ask(requests)]).toEqual(['miss', 'hit', 'hit']);
      const refused = await captureApiError(ask(requests));
      expect(refused.status).toBe(429);
      // 100 tokens a minute; each admission reserves its estimate: ten hits would take 200 if they kept it.
      const tokens = clientOf(harness, (await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'tpm', limits: { tokensPerMinute: 100 } })).secret);
      expect(await ask(tokens)).toBe('miss');
      for (let index = 0; index < 10; index += 1) expect(await ask(tokens)).toBe('hit');
    } finally {
      await harness.close();
    }
  });

  it('serves hits before admission with hitsCountAgainstRateLimit: false', async () => {
    const harness = await startCachingHarness({ hitsCountAgainstRateLimit: false });
    try {
      const openai = clientOf(harness, (await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'rpm', limits: { requestsPerMinute: 1 } })).secret);
      expect(await ask(openai)).toBe('miss');
      for (let index = 0; index < 5; index += 1) expect(await ask(openai)).toBe('hit');
    } finally {
      await harness.close();
    }
  });
});

describe('the response cache and a key’s allowed models', () => {
  it('refuses a cached answer of a model the key may not use, with hits served before admission and a shared scope', async () => {
    const harness = await startCachingHarness({ hitsCountAgainstRateLimit: false, scope: 'shared' });
    try {
      const question = { model: 'cached', temperature: 0, messages: [{ role: 'user' as const, content: 'not yours' }] };
      const allowed = clientOf(harness, (await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'all' })).secret);
      expect((await allowed.chat.completions.create(question).withResponse()).response.headers.get('x-dosrouter-cache')).toBe('miss');
      expect((await allowed.chat.completions.create(question).withResponse()).response.headers.get('x-dosrouter-cache')).toBe('hit');
      const limited = clientOf(harness, (await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'limited', allowedModels: ['uncached'] })).secret);
      const refused = await captureApiError(limited.chat.completions.create(question));
      expect(refused.status).toBe(403);
      expect(refused.error).toMatchObject({ code: 'model_not_allowed' });
      expect(harness.simulator.stats.requests).toBe(1);
    } finally {
      await harness.close();
    }
  });
});

describe('the response cache and a Responses request', () => {
  it('keys a Responses request by what the client sent, not by its Chat translation (an api: responses backend gets all of it)', async () => {
    const harness = await startHarness({
      models: [{ id: 'cached', outputTokens: 12 }],
      adminKey: ADMIN_KEY,
      configure: (config) => {
        const document = config as unknown as Document;
        (document.backends[0] as unknown as Record<string, unknown>).api = 'responses';
        document.cache = { enabled: true, models: ['cached'] };
      },
    });
    try {
      const openai = clientOf(harness, (await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'responses' })).secret);
      const cacheOf = async (extra: Partial<OpenAI.Responses.ResponseCreateParamsNonStreaming>) =>
        (await openai.responses.create({ model: 'cached', temperature: 0, input: 'summarise your reasoning', ...extra }).withResponse()).response.headers.get('x-dosrouter-cache');
      expect(await cacheOf({})).toBe('miss');
      expect(await cacheOf({})).toBe('hit');
      // Neither reaches a Chat backend, both reach a Responses one, and both change its answer.
      expect(await cacheOf({ include: ['reasoning.encrypted_content'] })).toBe('miss');
      expect(await cacheOf({ truncation: 'auto' })).toBe('miss');
      expect(await cacheOf({ truncation: 'auto' })).toBe('hit');
      expect(harness.simulator.stats.requests).toBe(3);
    } finally {
      await harness.close();
    }
  });
});
