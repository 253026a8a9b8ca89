import { recordTestSecret } from '../../shared/src/test-support/log-archive.js';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, createLogger } from '@dosrouter/shared';
import { PROTOTYPE_MEMBER_NAMES } from '../../shared/src/test-support/prototype-member-names.js';
import { deletePrefixAt, TEST_REDIS_URL } from '../../shared/src/test-support/redis.js';
import { startGateway, type RunningGateway } from './gateway.js';
import { KEY_CACHE_MS } from './auth/key-authenticator.js';
import { LogCapture, SIMULATOR_KEY, captureApiError, eventually, startHarness, type Harness } from './test-support/harness.js';

const ADMIN_KEY = `admin-${randomBytes(12).toString('hex')}`;
recordTestSecret(ADMIN_KEY);
const messages = [{ role: 'user' as const, content: 'hello' }];

interface KeyAnswer {
  id: string;
  secret?: string;
  name: string;
  allowedModels?: string[];
  revokedAt?: number;
  preview: string;
}

/** A call to the admin API with the admin key (or `as`), answering status and JSON. */
async function admin(url: string, method: string, path: string, body?: unknown, as = ADMIN_KEY): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${url}/admin/keys${path}`, {
    method,
    headers: { authorization: `Bearer ${as}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await response.json()) as Record<string, unknown>;
  // Secrets it hands out (create, rotate) must never show in a log: the run's log scan checks for them.
  if (typeof json.secret === 'string') recordTestSecret(json.secret);
  return { status: response.status, json };
}

const clientWith = (url: string, apiKey: string) => new OpenAI({ apiKey, baseURL: `${url}/v1`, maxRetries: 0 });
const chat = (url: string, apiKey: string, model = 'sim-model') => clientWith(url, apiKey).chat.completions.create({ model, messages });

describe('API keys on one gateway (embedded mode, keys in memory)', () => {
  let harness: Harness;
  let url: string;
  beforeAll(async () => {
    harness = await startHarness({ models: [{ id: 'sim-model' }, { id: 'other-model' }], adminKey: ADMIN_KEY });
    url = harness.gateway.url;
  });
  afterAll(() => harness.close());

  it('refuses requests without a key or with an unknown one, in OpenAI’s shape', async () => {
    const missing = await captureApiError(harness.client().chat.completions.create({ model: 'sim-model', messages }));
    expect(missing).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(missing.code).toBe('invalid_api_key');
    const none = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { type: 'authentication_error', code: 'missing_api_key' } });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(harness.simulator.stats.requests).toBe(0);
  });

  it('guards the admin API and /metrics with the admin key; health checks stay open', async () => {
    expect((await admin(url, 'GET', '', undefined, 'wrong-admin-key')).status).toBe(401);
    expect((await fetch(`${url}/admin/keys`)).status).toBe(401);
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    const scrape = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(scrape.status).toBe(200);
    expect(await scrape.text()).not.toContain(ADMIN_KEY);
    for (const path of ['/healthz', '/readyz']) expect((await fetch(`${url}${path}`)).status).toBe(200);
  });

  it('runs the whole key lifecycle through the official client: create, use, restrict, rotate, revoke', async () => {
    const created = await admin(url, 'POST', '', { name: 'team-a', owner: { team: 'a' }, allowedModels: ['sim-model'] });
    expect(created.status).toBe(201);
    const key = created.json as unknown as KeyAnswer;
    expect(key.secret).toMatch(/^dr-[A-Za-z0-9_-]{43}$/);
    const secret = key.secret!;

    const completion = await chat(url, secret);
    expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);

    // The secret is shown once: never in a list or a get.
    const listed = await admin(url, 'GET', '');
    expect(JSON.stringify(listed.json)).not.toContain(secret);
    expect((listed.json.data as KeyAnswer[]).map((entry) => entry.id)).toContain(key.id);
    expect((await admin(url, 'GET', `/${key.id}`)).json).toMatchObject({ id: key.id, name: 'team-a', owner: { team: 'a' }, preview: secret.slice(0, 7) });

    const forbidden = await captureApiError(chat(url, secret, 'other-model'));
    expect(forbidden).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(forbidden.param).toBe('model');
    expect((await admin(url, 'PATCH', `/${key.id}`, { allowedModels: null })).status).toBe(200);
    await chat(url, secret, 'other-model');

    // A grace of 3 s: the old secret's request right after the rotation must fall inside it on a busy machine too.
    const graceSeconds = 3;
    const rotated = await admin(url, 'POST', `/${key.id}/rotate`, { graceSeconds });
    const newSecret = (rotated.json as unknown as KeyAnswer).secret!;
    expect(newSecret).not.toBe(secret);
    await chat(url, secret);
    await chat(url, newSecret);
    await eventually(async () => (await chat(url, secret).then(() => 200, (error: { status: number }) => error.status)) === 401, graceSeconds * 1_000 + 10_000);
    await chat(url, newSecret);

    expect((await admin(url, 'DELETE', `/${key.id}`)).status).toBe(200);
    expect(await captureApiError(chat(url, newSecret))).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((await admin(url, 'DELETE', '/key_unknown')).status).toBe(404);

    for (const line of harness.logs.lines) {
      const text = JSON.stringify(line);
      for (const value of [secret, newSecret, ADMIN_KEY, SIMULATOR_KEY]) expect(text).not.toContain(value);
    }
  });

  it('answers 401 once a key’s expiry passes', async () => {
    const key = (await admin(url, 'POST', '', { name: 'short-lived', expiresAt: Date.now() + 60_000 })).json as unknown as KeyAnswer;
    await chat(url, key.secret!);
    await admin(url, 'PATCH', `/${key.id}`, { expiresAt: Date.now() - 1 });
    const error = await captureApiError(chat(url, key.secret!));
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    // The same code whether this replica had the key cached or looked it up afresh.
    expect(error.code).toBe('expired_api_key');
  });

  it('is driven from a shell by `pnpm dosrouter keys …`', async () => {
    const cli = fileURLToPath(new URL('../../../scripts/dosrouter.mjs', import.meta.url));
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, [cli, 'keys', ...args], { env: { ...process.env, DOSROUTER_URL: url, DOSROUTER_ADMIN_KEY: ADMIN_KEY } });
    const created = JSON.parse((await run('create', '--name', 'from-cli', '--model', 'sim-model', '--owner', 'team=cli', '--rpm', '100')).stdout) as KeyAnswer & { limits: unknown };
    expect(created).toMatchObject({ name: 'from-cli', allowedModels: ['sim-model'], owner: { team: 'cli' }, limits: { requestsPerMinute: 100 } });
    await chat(url, created.secret!);
    expect(JSON.parse((await run('list')).stdout).data.map((key: KeyAnswer) => key.id)).toContain(created.id);
    const queued = JSON.parse((await run('update', created.id, '--weight', '2.5', '--priority', 'high', '--priority-header', 'yes')).stdout) as KeyAnswer;
    expect(queued).toMatchObject({ queue: { weight: 2.5, priority: 'high', priorityHeader: true }, limits: { requestsPerMinute: 100 } });
    const badPriority = await run('update', created.id, '--priority', 'urgent').then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(badPriority?.stderr).toMatch(/--priority must be one of high, normal, low/);
    const rotated = JSON.parse((await run('rotate', created.id, '--grace', '0')).stdout) as KeyAnswer;
    await chat(url, rotated.secret!);
    await run('revoke', created.id);
    expect(await captureApiError(chat(url, rotated.secret!))).toBeInstanceOf(OpenAI.AuthenticationError);
    const failed = await run('get', 'key_nope').then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toMatch(/404: No API key with id key_nope/);
  });

  it('merges limits on update, and refuses writes a cross-site page could forge', async () => {
    const key = (await admin(url, 'POST', '', { name: 'limited', limits: { requestsPerMinute: 10, concurrency: 2 } })).json as unknown as KeyAnswer;
    const updated = await admin(url, 'PATCH', `/${key.id}`, { limits: { requestsPerMinute: 20 } });
    expect(updated.json).toMatchObject({ limits: { requestsPerMinute: 20, concurrency: 2 } });
    expect(updated.json).not.toHaveProperty('secret');
    // The queue settings merge the same way.
    await admin(url, 'PATCH', `/${key.id}`, { queue: { weight: 3, priority: 'low' } });
    expect((await admin(url, 'PATCH', `/${key.id}`, { queue: { priority: 'high' } })).json).toMatchObject({ queue: { weight: 3, priority: 'high' } });

    const form = await fetch(`${url}/admin/keys/${key.id}/rotate`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'text/plain' }, body: '' });
    expect(form.status).toBe(415);
    const crossSite = await fetch(`${url}/admin/keys`, { headers: { authorization: `Bearer ${ADMIN_KEY}`, 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.status).toBe(403);
    expect(crossSite.headers.get('cache-control')).toBe('no-store');
    await chat(url, key.secret!); // the secret was not rotated
  });

  it('refuses a token that is not one of ours without looking it up', async () => {
    const error = await captureApiError(chat(url, 'sk-proj-not-a-dosrouter-key'));
    expect(error.status).toBe(401);
    expect(error.code).toBe('invalid_api_key');
  });

  it('refuses malformed admin input with a 400 naming the field', async () => {
    const bad = await admin(url, 'POST', '', { name: '', limits: { requestsPerMinute: -1 } });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: { type: 'invalid_request_error' } });
    for (const queue of [{ weight: 0 }, { weight: 1e6 }, { priority: 'urgent' }, { priorityHeader: 'yes' }, { share: 1 }]) {
      const refused = await admin(url, 'POST', '', { name: 'queue', queue });
      expect(refused.status).toBe(400);
      expect(refused.json).toMatchObject({ error: { type: 'invalid_request_error', param: expect.stringMatching(/^queue/) } });
    }
  });
});

describe('a key’s allowed models, whatever routing does', () => {
  let harness: Harness;
  let url: string;
  beforeAll(async () => {
    harness = await startHarness({
      models: [{ id: 'cheap', contextWindow: 1_000_000 }, { id: 'expensive', contextWindow: 1_000_000 }],
      adminKey: ADMIN_KEY,
      configure: (config) => {
        const [backend] = (config as { backends: { models: Record<string, unknown>[] }[] }).backends;
        backend!.models[0]!.contextWindow = 100; // `cheap` takes small prompts only: bigger ones go to its fallback
        config.routing = {
          models: { cheap: { fallbacks: ['expensive'] } },
          groups: { pool: ['cheap', 'expensive'] },
          rules: [{ name: 'vip', match: { headers: { 'x-tier': '^big$' } }, route: { model: 'expensive' } }],
        };
      },
    });
    url = harness.gateway.url;
  });
  afterAll(() => harness.close());

  it('never reaches a model the key may not use through a fallback or a rule the client triggers', async () => {
    const key = (await admin(url, 'POST', '', { name: 'cheap-only', allowedModels: ['cheap'] })).json as unknown as KeyAnswer;
    const client = clientWith(url, key.secret!);
    await client.chat.completions.create({ model: 'cheap', messages });
    const big = await captureApiError(client.chat.completions.create({ model: 'cheap', messages: [{ role: 'user', content: 'word '.repeat(400) }] }));
    // `cheap` is too small and its fallback is not the key's: nothing can take it (400), and nothing was called.
    expect(big.status).toBe(400);
    const viaRule = await captureApiError(client.chat.completions.create({ model: 'cheap', messages }, { headers: { 'x-tier': 'big' } }));
    expect(viaRule.status).toBe(403);
    expect(harness.simulator.stats.byModel.expensive ?? 0).toBe(0);
    // The explain endpoint decides as the real request does: with the caller's key.
    const explained = await fetch(`${url}/v1/router/explain`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.secret!}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'expensive', messages }),
    });
    // The explain endpoint answers the real request's 403 itself, with nothing of the plan.
    expect(explained.status).toBe(403);
    const refusal = await explained.text();
    expect(JSON.parse(refusal)).toEqual({ error: { message: 'Your API key may not use the model `expensive`.', type: 'permission_error', param: 'model', code: 'model_not_allowed' } });
    expect(refusal).not.toContain('sim/');
  });

  it('shows the explain endpoint only the models and deployments the key may use', async () => {
    const key = (await admin(url, 'POST', '', { name: 'expensive-only', allowedModels: ['expensive'] })).json as unknown as KeyAnswer;
    // `cheap` falls back to `expensive`: the key's request goes there, and `cheap` is not shown at all.
    const explained = await fetch(`${url}/v1/router/explain`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.secret!}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'cheap', messages }),
    });
    expect(explained.status).toBe(200);
    const explanation = (await explained.json()) as { steps: { model: string; candidates: { deployment: string }[] }[]; attempts: string[] };
    expect(explanation.attempts).toEqual(['sim/expensive']);
    expect(explanation.steps.map((step) => step.model)).toEqual(['expensive']);
    expect(JSON.stringify(explanation)).not.toContain('sim/cheap');
  });

  it('answers 403 for a key whose allowed models are Object.prototype members, never 500', async () => {
    for (const name of PROTOTYPE_MEMBER_NAMES) {
      const key = (await admin(url, 'POST', '', { name: `proto-${name}`, allowedModels: [name] })).json as unknown as KeyAnswer;
      const refused = await captureApiError(chat(url, key.secret!, 'cheap'));
      expect([refused.status, refused.code]).toEqual([403, 'model_not_allowed']);
      const asModel = await captureApiError(chat(url, key.secret!, name));
      expect([asModel.status, asModel.code]).toEqual([404, 'model_not_found']);
    }
  });

  it('grants a group’s members to a key that lists the group', async () => {
    const key = (await admin(url, 'POST', '', { name: 'pool', allowedModels: ['pool'] })).json as unknown as KeyAnswer;
    const client = clientWith(url, key.secret!);
    await client.chat.completions.create({ model: 'pool', messages });
    await client.chat.completions.create({ model: 'expensive', messages });
  });
});

describe('GET /v1/models for a key with allowed models', () => {
  let harness: Harness;
  let url: string;
  const listIds = async (apiKey: string): Promise<string[]> => {
    const ids: string[] = [];
    for await (const model of clientWith(url, apiKey).models.list()) ids.push(model.id);
    return ids.sort();
  };
  beforeAll(async () => {
    harness = await startHarness({
      models: [{ id: 'fast' }, { id: 'smart' }, { id: 'embed' }],
      adminKey: ADMIN_KEY,
      configure: (config) => {
        config.aliases = { quick: 'fast', clever: 'smart', 'vendor/fast': 'fast' };
        config.routing = { groups: { heavy: ['smart'], mixed: ['fast', 'smart'] } };
      },
    });
    url = harness.gateway.url;
  });
  afterAll(() => harness.close());

  it('lists what a key limited to [fast, auto] may use: the model, its aliases, a group it serves in, and auto', async () => {
    const key = (await admin(url, 'POST', '', { name: 'fast-auto', allowedModels: ['fast', 'auto'] })).json as unknown as KeyAnswer;
    // `mixed` has fast among its members, so the key can send it (its other member is filtered out when routed);
    // `heavy`, `smart`, `clever`, `embed`, `eco` and `premium` it cannot.
    expect(await listIds(key.secret!)).toEqual(['auto', 'fast', 'mixed', 'quick', 'vendor/fast']);
    for (const name of ['fast', 'quick', 'vendor/fast', 'auto']) expect((await clientWith(url, key.secret!).models.retrieve(name)).id).toBe(name);
  });

  it('answers 404 for a model the key may not use, exactly as for one that does not exist', async () => {
    const key = (await admin(url, 'POST', '', { name: 'fast-only', allowedModels: ['fast'] })).json as unknown as KeyAnswer;
    const client = clientWith(url, key.secret!);
    const hidden = await captureApiError(client.models.retrieve('smart'));
    const unknown = await captureApiError(client.models.retrieve('smarter'));
    expect(hidden).toBeInstanceOf(OpenAI.NotFoundError);
    expect(hidden.error).toEqual({ ...(unknown.error as object), message: (unknown.error as { message: string }).message.replace('smarter', 'smart') });
    expect((await captureApiError(client.models.retrieve('auto'))).status).toBe(404);
  });

  it('lists a group and what it grants to a key that names the group; every name to a key without a list', async () => {
    const heavy = (await admin(url, 'POST', '', { name: 'heavy', allowedModels: ['heavy'] })).json as unknown as KeyAnswer;
    expect(await listIds(heavy.secret!)).toEqual(['clever', 'heavy', 'mixed', 'smart']);
    const everything = (await admin(url, 'POST', '', { name: 'everything' })).json as unknown as KeyAnswer;
    expect(await listIds(everything.secret!)).toEqual(['auto', 'clever', 'eco', 'embed', 'fast', 'heavy', 'mixed', 'premium', 'quick', 'smart', 'vendor/fast']);
  });
});

describe('API keys across two replicas sharing Redis', () => {
  let harness: Harness;
  const replicas: RunningGateway[] = [];
  const prefix = `test-keys-${randomBytes(4).toString('hex')}`;
  beforeAll(async () => {
    harness = await startHarness({ models: [{ id: 'sim-model' }] });
    for (const replica of ['a', 'b']) {
      const config = configSchema.parse({
        prober: { embedded: false },
        redis: { url: TEST_REDIS_URL, keyPrefix: prefix },
        auth: { mode: 'keys' },
        backends: [{ name: 'sim', baseUrl: harness.simulator.baseUrl, apiKey: SIMULATOR_KEY, models: [{ name: 'sim-model' }] }],
      });
      const logger = createLogger({ level: 'warn', service: 'gateway', destination: new LogCapture() });
      replicas.push(await startGateway({ config, logger, port: 0, host: '127.0.0.1', replica, adminKey: ADMIN_KEY }));
    }
  });
  afterAll(async () => {
    for (const replica of replicas) await replica.close(1_000);
    await harness.close();
    await deletePrefixAt(TEST_REDIS_URL, prefix);
  });

  it('serves a key created on one replica from the other, and a revocation reaches it once its cached lookup expires', async () => {
    const [first, second] = replicas as [RunningGateway, RunningGateway];
    const key = (await admin(first.url, 'POST', '', { name: 'shared' })).json as unknown as KeyAnswer;
    await chat(second.url, key.secret!);

    expect((await admin(first.url, 'DELETE', `/${key.id}`)).status).toBe(200);
    // The bound itself (refused from KEY_CACHE_MS after the lookup on, not before) is checked on an injected clock in
    // auth/key-authenticator.test.ts; here, that it arrives, with room for a busy machine's slow requests.
    await eventually(async () => (await chat(second.url, key.secret!).then(() => 200, (error: { status: number }) => error.status)) === 401, KEY_CACHE_MS + 10_000);
  });

  it('requires keys on a replica started without the admin key once the cluster has keys', async () => {
    const config = configSchema.parse({
      prober: { embedded: false },
      redis: { url: TEST_REDIS_URL, keyPrefix: prefix },
      backends: [{ name: 'sim', baseUrl: harness.simulator.baseUrl, apiKey: SIMULATOR_KEY, models: [{ name: 'sim-model' }] }],
    });
    await admin(replicas[0]!.url, 'POST', '', { name: 'exists' });
    const logger = createLogger({ level: 'warn', service: 'gateway', destination: new LogCapture() });
    const bare = await startGateway({ config, logger, port: 0, host: '127.0.0.1', replica: 'c' });
    replicas.push(bare);
    const error = await captureApiError(new OpenAI({ apiKey: 'dr-none', baseURL: `${bare.url}/v1`, maxRetries: 0 }).chat.completions.create({ model: 'sim-model', messages }));
    expect(error.status).toBe(401);
    // Its metrics are not left open either: with no admin key to check, it refuses them.
    const scrape = await fetch(`${bare.url}/metrics`);
    expect(scrape.status).toBe(401);
    expect(await scrape.json()).toMatchObject({
      error: { type: 'authentication_error', code: 'admin_key_not_configured', message: expect.stringContaining('so /metrics needs the admin key') },
    });
    // Nor the readiness detail (replica ids), and its refusal names it rather than /metrics.
    const detail = await fetch(`${bare.url}/readyz/detail`);
    expect(detail.status).toBe(401);
    expect(await detail.json()).toMatchObject({ error: { code: 'admin_key_not_configured', message: expect.stringContaining('so /readyz/detail needs the admin key') } });
  });
});
