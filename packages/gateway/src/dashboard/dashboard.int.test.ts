import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startHarness, type Harness } from '../test-support/harness.js';

const ADMIN_KEY = 'dashboard-embedded-admin-key-0001';
const admin = { authorization: `Bearer ${ADMIN_KEY}` };

describe('the dashboard of an embedded gateway (no Redis)', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({
      models: [{ id: 'm', outputTokens: 4 }],
      adminKey: ADMIN_KEY,
      configure: (config) => {
        config.auth = { mode: 'open' };
        config.dashboard = { recentRequests: 2, includePrompts: true };
        config.redis = { pollIntervalMs: 100 };
      },
    });
  });
  afterAll(() => harness?.close());

  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${harness.gateway.url}/dashboard/api/${path}`, { headers: admin });
    expect(response.status).toBe(200);
    return (await response.json()) as T;
  };

  it('keeps the last `recentRequests` requests, with the prompt when opted in, and each one routing', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      const { response } = await harness.client().chat.completions.create({ model: 'm', messages: [{ role: 'user', content: `prompt number ${index}` }] }).withResponse();
      ids.push(response.headers.get('x-request-id')!);
    }
    const { data } = await get<{ data: { id: string; prompt?: string; routing?: unknown; attempts: unknown[]; replica: string }[] }>('requests');
    expect(data.map((entry) => entry.id)).toEqual([ids[2], ids[1]]);
    expect(data[0]).toMatchObject({ prompt: 'prompt number 2', attempts: [{ deployment: 'sim/m', outcome: 'ok' }] });
    expect(data[0]!.routing).toBeUndefined();
    const opened = await get<{ routing: { planned: string[]; strategy: string } }>(`requests/${data[0]!.replica}/${ids[2]}`);
    expect(opened.routing).toMatchObject({ planned: ['sim/m'], strategy: 'weighted' });
    const missing = await fetch(`${harness.gateway.url}/dashboard/api/requests/${data[0]!.replica}/${ids[0]}`, { headers: admin });
    expect(missing.status).toBe(404);
  });

  it("shows the deployments' rolling figures and this process as the only replica", async () => {
    await eventually(async () => {
      const { data } = await get<{ data: { id: string; requestsPerSecond: number; latencyMs: { p99: number | null } }[] }>('deployments');
      return data[0]!.id === 'sim/m' && data[0]!.requestsPerSecond > 0 && data[0]!.latencyMs.p99 !== null;
    }, 10_000, 'the rolling stats');
    const { data } = await get<{ data: { id: string; role: string; redis: string }[] }>('replicas');
    expect(data).toEqual([expect.objectContaining({ id: harness.gateway.cluster.replica, role: 'gateway', redis: 'ok' })]);
  });

  it('explains a pasted request, and answers a bad one with an OpenAI-shaped 400', async () => {
    const post = (body: string) => fetch(`${harness.gateway.url}/dashboard/api/explain`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body });
    const explained = await post(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }));
    expect(await explained.json()).toMatchObject({ object: 'router.explanation', attempts: ['sim/m'] });
    const bad = await post('{"model": 42}');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });
});

describe('the dashboard of an embedded gateway with its in-process prober', () => {
  it("shows each deployment's health as the embedded prober last published it", async () => {
    const harness = await startHarness({
      models: [{ id: 'm' }],
      adminKey: ADMIN_KEY,
      configure: (config) => {
        config.auth = { mode: 'open' };
        config.prober = { embedded: true, probe: { intervalMs: 200, timeoutMs: 150 }, recomputeIntervalMs: 1_000 };
      },
    });
    try {
      type Health = { state: string; score: number } | null;
      let health: Health = null;
      await eventually(async () => {
        const response = await fetch(`${harness.gateway.url}/dashboard/api/deployments`, { headers: admin });
        const { data } = (await response.json()) as { data: { id: string; health: Health }[] };
        health = data.find((deployment) => deployment.id === 'sim/m')?.health ?? null;
        return health !== null;
      }, 10_000, 'a probed health state');
      expect(health).toEqual({ state: 'healthy', score: expect.any(Number) as number });
    } finally {
      await harness.close();
    }
  });
});

describe('the dashboard assets', () => {
  it('serves the built script and styles to anyone, and nothing else from the disk', async () => {
    const harness = await startHarness({ models: [{ id: 'm' }], adminKey: ADMIN_KEY });
    try {
      const script = await fetch(`${harness.gateway.url}/dashboard/assets/app.js`);
      expect([script.status, script.headers.get('content-type'), script.headers.get('content-security-policy')]).toEqual([
        200,
        'text/javascript; charset=utf-8',
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      ]);
      for (const path of ['nope.js', '%2e%2e/%2e%2e/package.json', '..%2f..%2fpackage.json']) {
        const response = await fetch(`${harness.gateway.url}/dashboard/assets/${path}`);
        expect(response.status, path).toBe(404);
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe('unknown_url');
      }
    } finally {
      await harness.close();
    }
  });
});

describe('a gateway whose dashboard is off, or that has no admin key', () => {
  for (const [name, adminKey, dashboard] of [
    ['dashboard.enabled: false', ADMIN_KEY, { enabled: false }],
    ['no admin key', undefined, {}],
  ] as const) {
    it(`serves no dashboard with ${name}`, async () => {
      const harness = await startHarness({ models: [{ id: 'm' }], ...(adminKey ? { adminKey } : {}), configure: (config) => void (config.dashboard = dashboard) });
      try {
        for (const path of ['/dashboard', '/dashboard/api/deployments']) expect((await fetch(`${harness.gateway.url}${path}`, { headers: admin })).status).toBe(404);
      } finally {
        await harness.close();
      }
    });
  }
});
