import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLimiter } from '@dosrouter/shared';
import { recordTestSecret } from '../../shared/src/test-support/log-archive.js';
import { startHarness, type Harness } from './test-support/harness.js';

const chatBody = (model: string) => JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] });

describe('a rule on a path', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({
      models: [{ id: 'sim-model' }, { id: 'other-model' }],
      configure: (config) => {
        config.routing = { rules: [{ name: 'chat-elsewhere', match: { path: '/v1/chat/completions' }, route: { model: 'other-model' } }] };
      },
    });
  });
  afterAll(() => harness.close());

  it('applies to every spelling of the path that is served, and the others are 404s', async () => {
    const served = await fetch(`${harness.gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('sim-model') });
    expect(served.status).toBe(200);
    expect(served.headers.get('x-dosrouter-rule')).toBe('chat-elsewhere');
    for (const path of ['/v1/chat/completions/', '/V1/chat/completions', '/v1/Chat/Completions', '/V1/CHAT/COMPLETIONS/', '/v1/chat/completions//']) {
      const response = await fetch(`${harness.gateway.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('sim-model') });
      expect([path, response.status]).toEqual([path, 404]);
      expect(await response.json()).toMatchObject({ error: { code: 'unknown_url', type: 'invalid_request_error' } });
    }
    // No spelling slipped past the rule to the model it routes away from.
    expect(harness.simulator.stats.byModel['sim-model'] ?? 0).toBe(0);
    expect(harness.simulator.stats.byModel['other-model']).toBe(1);
  });
});

describe('open mode with per-key limits, under distinct 16 KB Authorization values', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({
      models: [{ id: 'sim-model' }],
      configure: (config) => {
        config.server = { maxHeaderBytes: 64 * 1024 };
        config.limits = { perKey: { requestsPerMinute: 1_000_000 } };
        // Access lines would be kept by the test's log capture: they are not what this test measures.
        config.logging = { level: 'info', accessLog: false };
      },
    });
  });
  afterAll(() => harness.close());

  it('keeps a fixed-size scope per client, never the header, and the heap does not grow with the headers', async () => {
    const limiter = harness.gateway.cluster.limiter;
    if (!(limiter instanceof MemoryLimiter)) throw new Error('embedded mode limits in memory');
    const send = (index: number) =>
      fetch(`${harness.gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${String(index).padStart(6, '0')}${'k'.repeat(16 * 1024 - 20)}` },
        body: chatBody('sim-model'),
      }).then(async (response) => {
        expect(response.status).toBe(200);
        await response.arrayBuffer();
      });
    const sendMany = async (from: number, count: number) => {
      let next = from;
      const worker = async () => {
        while (next < from + count) await send(next++);
      };
      await Promise.all(Array.from({ length: 8 }, worker));
    };
    await sendMany(0, 50); // warm up: code paths compiled, pools filled
    const before = settledHeapBytes();
    await sendMany(50, 2_000);
    const growth = settledHeapBytes() - before;

    const clientScopes = limiter.scopeIds().filter((id) => id.startsWith('key:'));
    expect(clientScopes.length).toBe(2_050);
    expect(Math.max(...clientScopes.map((id) => id.length))).toBe(36);
    // 2,000 headers of 16 KB are 32 MB: kept, they would show (36 MB measured); a fixed-size scope each, about 3 MB.
    expect(growth).toBeLessThan(16 * 1024 * 1024);
  }, 120_000);
});

/** heapUsed after a full collection (`gc` made available at run time: the test workers do not start with it). */
function settledHeapBytes(): number {
  setFlagsFromString('--expose-gc');
  const collect = runInNewContext('gc') as () => void;
  collect();
  collect();
  return process.memoryUsage().heapUsed;
}

describe('what a client learns before it authenticated', () => {
  const ADMIN_KEY = `admin-${randomBytes(12).toString('hex')}`;
  recordTestSecret(ADMIN_KEY);
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ models: [{ id: 'sim-model' }], adminKey: ADMIN_KEY });
  });
  afterAll(() => harness.close());

  const post = (path: string, authorization?: string) =>
    fetch(`${harness.gateway.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: chatBody('sim-model'),
    });

  it('names the replica only to a client with a valid key', async () => {
    for (const authorization of [undefined, 'Bearer dr-not-a-key', 'Bearer sk-something']) {
      const refused = await post('/v1/chat/completions', authorization);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('x-dosrouter-replica')).toBeNull();
    }
    expect((await post('/v1/unknown')).headers.get('x-dosrouter-replica')).toBeNull();
    const created = await fetch(`${harness.gateway.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'replica-test' }),
    });
    const { secret } = (await created.json()) as { secret: string };
    recordTestSecret(secret);
    const served = await post('/v1/chat/completions', `Bearer ${secret}`);
    expect(served.status).toBe(200);
    expect(served.headers.get('x-dosrouter-replica')).toBe(harness.gateway.cluster.replica);
  });

  it('gets admin 401s that are neither cached nor sniffed, and its failed logins are summed up in the log', async () => {
    for (let attempt = 0; attempt < 30; attempt += 1) {
      for (const path of ['/admin/keys', '/admin/usage', '/metrics']) {
        const refused = await fetch(`${harness.gateway.url}${path}`, { headers: { authorization: `Bearer wrong-${attempt}` } });
        expect([path, refused.status]).toEqual([path, 401]);
        expect([refused.headers.get('cache-control'), refused.headers.get('x-content-type-options')]).toEqual(['no-store', 'nosniff']);
      }
    }
    // 90 failures within the summary interval: the first is logged, the rest wait for the interval's summary line.
    const failures = harness.logs.lines.filter((line) => String(line.message).startsWith('admin authentication failed'));
    expect(failures).toEqual([expect.objectContaining({ level: 'warn', message: 'admin authentication failed', route: '/admin/keys' })]);
  });
});
