import { recordTestSecret } from '../../shared/src/test-support/log-archive.js';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type JsonStyle, type Simulator } from '@dosrouter/provider-sim';
import { usageDay } from '@dosrouter/shared';
import { TEST_REDIS_URL } from '../../shared/src/test-support/redis.js';
import { PrivateRedisServer } from '../../shared/src/test-support/redis-server.js';
import { startClusterHarness, type ClusterHarness } from './test-support/cluster-harness.js';
import { SIMULATOR_KEY, captureApiError, createClientKey, eventually, startHarness, type Harness } from './test-support/harness.js';

const ADMIN_KEY = `admin-${randomBytes(12).toString('hex')}`;
recordTestSecret(ADMIN_KEY);
const TODAY = usageDay(Date.now());
/** $1 per million prompt tokens, $2 per million completion tokens. */
const PRICING = { inputPerMTok: 1, outputPerMTok: 2 };

interface UsageAnswer {
  object: string;
  data: Record<string, unknown>[];
  totals: { requests: number; failed_requests: number; prompt_tokens: number; completion_tokens: number; total_tokens: number; cost_usd: number; estimated_requests: number };
  pending_records: number;
}

async function getJson(url: string, path: string, bearer = ADMIN_KEY): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${bearer}` } });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** The totals once every written record is counted (the aggregator runs moments behind in cluster mode). */
async function settledUsage(url: string, path: string, bearer = ADMIN_KEY): Promise<UsageAnswer> {
  let answer: UsageAnswer | undefined;
  await eventually(async () => {
    const { status, json } = await getJson(url, path, bearer);
    expect(status).toBe(200);
    answer = json as unknown as UsageAnswer;
    return answer.pending_records === 0;
  }, 10_000);
  return answer!;
}

const createKey = (url: string, fields: Record<string, unknown>) => createClientKey(url, ADMIN_KEY, fields);

const clientWith = (url: string, apiKey: string, maxRetries = 0) => new OpenAI({ apiKey, baseURL: `${url}/v1`, maxRetries, timeout: 20_000 });

/**
 * A mixed load: plain answers, streams that ask for usage, streams that do not (the gateway asks on their behalf and
 * strips the chunk), and embeddings. Returns how many requests it made.
 */
async function mixedLoad(clients: OpenAI[], total: number, concurrency: number, backendReportsUsage = true): Promise<number> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const index = next++;
      const client = clients[index % clients.length]!;
      const content = `question ${index} ${'lorem ipsum '.repeat(index % 7)}`;
      switch (index % 4) {
        case 0:
          await client.chat.completions.create({ model: 'sim-model', messages: [{ role: 'user', content }] });
          break;
        case 1: {
          const stream = await client.chat.completions.create({ model: 'sim-model', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content }] });
          let usageChunks = 0;
          for await (const chunk of stream) if (chunk.usage) usageChunks += 1;
          // Passed through as the backend sent it: a backend that counts nothing sends no usage chunk.
          expect(usageChunks).toBe(backendReportsUsage ? 1 : 0);
          break;
        }
        case 2: {
          const stream = await client.chat.completions.create({ model: 'sim-model', stream: true, messages: [{ role: 'user', content }] });
          // The usage chunk the gateway asked for is not passed on to a client that did not ask for it.
          for await (const chunk of stream) expect(chunk.usage ?? undefined).toBeUndefined();
          break;
        }
        default:
          await client.embeddings.create({ model: 'sim-embed', input: content });
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return total;
}

const simulatedModels = (reportsUsage = true, jsonStyle: JsonStyle = 'compact') => [
  { id: 'sim-model', outputTokens: 12, reportsUsage, jsonStyle },
  { id: 'sim-slow', outputTokens: 40, interTokenDelayMs: 25, reportsUsage, jsonStyle },
  { id: 'sim-embed', reportsUsage, jsonStyle },
  { id: 'sim-cheap', outputTokens: 4, reportsUsage, jsonStyle },
];

/** The harness's one backend, with prices on its models. */
function priceModels(document: Record<string, unknown>): void {
  const [backend] = document.backends as { models: Record<string, unknown>[] }[];
  backend!.models = [
    { name: 'sim-model', pricing: PRICING, capabilities: ['streaming', 'tools'] },
    { name: 'sim-slow', pricing: PRICING, capabilities: ['streaming'] },
    { name: 'sim-embed', pricing: { inputPerMTok: 0.1 }, capabilities: ['embeddings'] },
    { name: 'sim-cheap', pricing: { inputPerMTok: 0.01, outputPerMTok: 0.01 }, capabilities: ['streaming', 'tools'] },
  ];
}

/** The cost of the simulator's reported usage at PRICING (sim-model) and the embedding price. */
const expectedTokens = (simulator: Simulator) => ({ prompt_tokens: simulator.stats.usage.promptTokens, completion_tokens: simulator.stats.usage.completionTokens });

describe('usage accounting on one gateway (embedded mode)', () => {
  let harness: Harness;
  let url: string;
  beforeAll(async () => {
    harness = await startHarness({ models: simulatedModels(), adminKey: ADMIN_KEY, configure: priceModels });
    url = harness.gateway.url;
  });
  afterAll(() => harness.close());

  it('records every request: the totals equal the usage the backend reported, over streams and plain answers', async () => {
    const key = await createKey(url, { name: 'mixed' });
    const requests = await mixedLoad([clientWith(url, key.secret)], 40, 4);
    const usage = await settledUsage(url, `/admin/usage?key=${key.id}`);
    expect(usage.totals).toMatchObject({ requests, failed_requests: 0, estimated_requests: 0, ...expectedTokens(harness.simulator) });
    expect(harness.simulator.stats.usage.answers).toBe(requests);
    // Its own key sees the same through /v1/usage.
    const own = await settledUsage(url, '/v1/usage', key.secret);
    expect(own.totals).toEqual(usage.totals);
  });

  it('groups and filters by key, model and day, and names each key', async () => {
    const first = await createKey(url, { name: 'first' });
    const second = await createKey(url, { name: 'second' });
    await clientWith(url, first.secret).chat.completions.create({ model: 'sim-model', messages: [{ role: 'user', content: 'one' }] });
    await clientWith(url, second.secret).chat.completions.create({ model: 'sim-cheap', messages: [{ role: 'user', content: 'two' }] });
    await clientWith(url, second.secret).chat.completions.create({ model: 'sim-cheap', messages: [{ role: 'user', content: 'three' }] });
    const grouped = await settledUsage(url, `/admin/usage?group_by=key,model,day&from=${TODAY}&to=${TODAY}`);
    const rows = grouped.data.filter((row) => row.key === first.id || row.key === second.id);
    // Rows come sorted by key id.
    const expected = [
      [first.id, 'first', 'sim-model', TODAY, 1],
      [second.id, 'second', 'sim-cheap', TODAY, 2],
    ].sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(rows.map((row) => [row.key, row.key_name, row.model, row.day, row.requests])).toEqual(expected);
    const byModel = await settledUsage(url, `/admin/usage?model=sim-cheap&key=${second.id}`);
    expect(byModel.totals.requests).toBe(2);
    // The cost is the catalog's price of what the backend reported.
    const cheap = byModel.totals;
    expect(cheap.cost_usd).toBeCloseTo((cheap.prompt_tokens * 0.01 + cheap.completion_tokens * 0.01) / 1e6, 12);
    // A key sees only its own usage, whatever it asks for.
    const own = await settledUsage(url, '/v1/usage?group_by=model', first.secret);
    expect(own.data).toEqual([expect.objectContaining({ model: 'sim-model', requests: 1 })]);
  });

  it('answers malformed usage queries with OpenAI-shaped 400s, and keeps /admin/usage behind the admin key', async () => {
    const key = await createKey(url, { name: 'queries' });
    for (const [path, param] of [
      ['/admin/usage?group_by=colour', 'group_by'],
      ['/admin/usage?from=2026-11-20&to=2026-11-01', 'from'],
      ['/admin/usage?from=yesterday-ish', 'from'],
      ['/admin/usage?from=2020-01-01&to=2026-01-01', 'from'],
      ['/admin/usage?limit=5', 'limit'],
      ['/admin/usage?from=0000-01-01&to=9999-12-31', 'to'],
      ['/admin/usage?from=99999999999999', 'from'],
    ] as const) {
      const { status, json } = await getJson(url, path);
      expect(status, path).toBe(400);
      expect(json).toMatchObject({ error: { type: 'invalid_request_error', param } });
    }
    // A model the gateway does not know is recorded (a failed request) under `-`, never under the client's text.
    const unknown = await captureApiError(clientWith(url, key.secret).chat.completions.create({ model: 'no-such\tmodel', messages: [{ role: 'user', content: 'x' }] }));
    expect(unknown.status).toBe(404);
    let own: UsageAnswer | undefined;
    await eventually(async () => (own = await settledUsage(url, '/v1/usage?group_by=model', key.secret)).totals.requests === 1);
    expect(own!.data).toEqual([expect.objectContaining({ model: '-', requests: 1, failed_requests: 1 })]);
    expect((await getJson(url, '/v1/usage?key=someone-else', key.secret)).status).toBe(400);
    expect((await getJson(url, '/v1/usage?group_by=key', key.secret)).status).toBe(400);
    expect((await getJson(url, '/admin/usage', 'not-the-admin-key')).status).toBe(401);
    expect((await getJson(url, '/admin/usage', key.secret)).status).toBe(401);
    expect((await fetch(`${url}/v1/usage`)).status).toBe(401);
  });

  it('refuses a key whose daily budget is spent with 429 insufficient_quota, which the SDK does not retry', async () => {
    // One answer costs about $0.00003: the budget is spent after the first.
    const key = await createKey(url, { name: 'small budget', budget: { dailyUsd: 0.00001 } });
    const client = clientWith(url, key.secret, 2);
    await client.chat.completions.create({ model: 'sim-model', messages: [{ role: 'user', content: 'spend it' }] });
    const before = harness.simulator.stats.requests;
    const refused = await captureApiError(client.chat.completions.create({ model: 'sim-model', messages: [{ role: 'user', content: 'again' }] }));
    expect(refused.status).toBe(429);
    expect(refused.code).toBe('insufficient_quota');
    expect(refused.type).toBe('insufficient_quota');
    expect(refused.message).toMatch(/daily budget of \$0\.00001/);
    expect(refused.headers.get('x-should-retry')).toBe('false');
    expect(harness.simulator.stats.requests).toBe(before);
    // Another key is unaffected; a zero budget refuses from the start.
    const other = await createKey(url, { name: 'no budget' });
    await clientWith(url, other.secret).chat.completions.create({ model: 'sim-model', messages: [{ role: 'user', content: 'fine' }] });
    const zero = await createKey(url, { name: 'zero', budget: { monthlyUsd: 0 } });
    const none = await captureApiError(clientWith(url, zero.secret).chat.completions.create({ model: 'sim-model', messages: [{ role: 'user', content: 'no' }] }));
    expect(none.code).toBe('insufficient_quota');
    expect(none.message).toMatch(/monthly budget/);
  });

  it('is driven from a shell: budgets with `pnpm dosrouter keys`, totals with `pnpm dosrouter usage`', async () => {
    const cli = fileURLToPath(new URL('../../../scripts/dosrouter.mjs', import.meta.url));
    const run = async (...args: string[]) =>
      JSON.parse((await promisify(execFile)(process.execPath, [cli, ...args], { env: { ...process.env, DOSROUTER_URL: url, DOSROUTER_ADMIN_KEY: ADMIN_KEY } })).stdout) as Record<string, unknown>;
    const created = (await run('keys', 'create', '--name', 'cli-budget', '--daily-usd', '2.5', '--soft-daily-usd', '1')) as { id: string; secret: string; budget: unknown };
    recordTestSecret(created.secret);
    expect(created.budget).toEqual({ dailyUsd: 2.5, softDailyUsd: 1 });
    expect((await run('keys', 'update', created.id, '--monthly-usd', '40')).budget).toEqual({ dailyUsd: 2.5, softDailyUsd: 1, monthlyUsd: 40 });
    await clientWith(url, created.secret).chat.completions.create({ model: 'sim-model', messages: [{ role: 'user', content: 'from the shell' }] });
    const usage = (await run('usage', '--key', created.id, '--group-by', 'model,day')) as unknown as UsageAnswer;
    expect(usage.data).toEqual([expect.objectContaining({ model: 'sim-model', day: TODAY, requests: 1 })]);
  });

  it('charges a stream the client abandoned for what it was sent, counted by the tokenizer', async () => {
    const key = await createKey(url, { name: 'abandons' });
    const controller = new AbortController();
    const stream = await clientWith(url, key.secret).chat.completions.create(
      { model: 'sim-slow', stream: true, messages: [{ role: 'user', content: 'tell me a long story' }] },
      { signal: controller.signal },
    );
    let words = 0;
    // The SDK ends the iteration (or throws, depending on timing) once aborted.
    try {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content) words += 1;
        if (words === 10) controller.abort();
      }
    } catch {
      // aborted
    }
    expect(words).toBe(10);
    // The record is written once the gateway has seen the disconnect and settled the attempt.
    let usage = await settledUsage(url, `/admin/usage?key=${key.id}`);
    await eventually(async () => (usage = await settledUsage(url, `/admin/usage?key=${key.id}`)).totals.requests === 1);
    expect(usage.totals).toMatchObject({ requests: 1, failed_requests: 1, estimated_requests: 1 });
    // About ten of forty words were sent before the client left: that much is charged, not nothing and not all.
    expect(usage.totals.completion_tokens).toBeGreaterThanOrEqual(10);
    expect(usage.totals.completion_tokens).toBeLessThan(40);
    expect(usage.totals.cost_usd).toBeGreaterThan(0);
  });

  it('moves `auto` to the eco profile once a key passes its soft budget, instead of refusing', async () => {
    const key = await createKey(url, { name: 'soft', budget: { softDailyUsd: 0.000001 } });
    const client = clientWith(url, key.secret);
    const ask = () => client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'Prove that the square root of two is irrational, step by step.' }] }).withResponse();
    const first = await ask();
    expect(first.response.headers.get('x-dosrouter-profile')).toBeNull();
    const second = await ask();
    expect(second.response.headers.get('x-dosrouter-profile')).toBe('eco');
    // eco prefers the cheapest model; auto had picked by tier.
    expect(second.response.headers.get('x-dosrouter-model')).toBe('sim-cheap');
    expect(first.response.headers.get('x-dosrouter-model')).not.toBe('sim-cheap');
  });
});

// A backend that spaces its JSON (`"usage": {`, as Python servers write it) or pretty-prints it (each stream event as
// several data lines) reports the same usage: the gateway must read it, not estimate, and still hide the usage-only
// chunk from a client that did not ask for it (mixedLoad checks that on the client side).
describe.each(['spaced', 'indented'] as const)('usage of a backend that writes %s JSON (embedded mode)', (jsonStyle) => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ models: simulatedModels(true, jsonStyle), adminKey: ADMIN_KEY, configure: priceModels });
  });
  afterAll(() => harness.close());

  it('records the usage the backend reported, none of it estimated', async () => {
    const url = harness.gateway.url;
    const key = await createKey(url, { name: `json-${jsonStyle}` });
    const requests = await mixedLoad([clientWith(url, key.secret)], 16, 2);
    const usage = await settledUsage(url, `/admin/usage?key=${key.id}`);
    expect(usage.totals).toMatchObject({ requests, failed_requests: 0, estimated_requests: 0, ...expectedTokens(harness.simulator) });
    expect(harness.simulator.stats.usage.answers).toBe(requests);
  });
});

describe('usage of a backend that reports none (embedded mode)', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ models: simulatedModels(false), adminKey: ADMIN_KEY, configure: priceModels });
  });
  afterAll(() => harness.close());

  it('counts the tokens with the tokenizer and marks the records estimated', async () => {
    const url = harness.gateway.url;
    const key = await createKey(url, { name: 'estimated' });
    const requests = await mixedLoad([clientWith(url, key.secret)], 8, 2, false);
    const usage = await settledUsage(url, `/admin/usage?key=${key.id}&group_by=model`);
    expect(usage.totals.requests).toBe(requests);
    expect(usage.totals.estimated_requests).toBe(requests);
    const chat = usage.data.find((row) => row.model === 'sim-model')!;
    // 6 chat requests of 12 simulated words each: the tokenizer counts at least a token a word, and some prompt.
    expect(chat.completion_tokens).toBeGreaterThanOrEqual(6 * 12);
    expect(chat.prompt_tokens).toBeGreaterThanOrEqual(6 * 8);
    expect(chat.cost_usd).toBeGreaterThan(0);
    const embed = usage.data.find((row) => row.model === 'sim-embed')!;
    expect(embed.prompt_tokens).toBeGreaterThan(0);
    expect(embed.completion_tokens).toBe(0);
  });
});

describe('usage and budgets across three replicas (cluster mode, Redis)', () => {
  let cluster: ClusterHarness;
  let simulator: Simulator;
  const urls = () => cluster.gateways.map((gateway) => gateway.url);
  beforeAll(async () => {
    simulator = await startSimulator({ models: simulatedModels(), apiKey: SIMULATOR_KEY });
    const document: Record<string, unknown> = {
      logging: { level: 'info' },
      prober: { embedded: false },
      backends: [{ name: 'sim', baseUrl: simulator.baseUrl, apiKey: SIMULATOR_KEY, models: [] }],
    };
    priceModels(document);
    cluster = await startClusterHarness({ replicas: 3, redisUrl: TEST_REDIS_URL, document, adminKey: ADMIN_KEY });
  });
  afterEach(() => simulator.reset());
  afterAll(async () => {
    await cluster.close();
    await simulator.close();
  });

  it('totals over a mixed load spread across the replicas equal the usage the backend reported', async () => {
    const key = await createKey(urls()[0]!, { name: 'spread' });
    const requests = await mixedLoad(urls().map((url) => clientWith(url, key.secret)), 120, 8);
    // Any replica answers for the whole cluster.
    const usage = await settledUsage(urls()[2]!, `/admin/usage?key=${key.id}`);
    expect(usage.totals).toMatchObject({ requests, failed_requests: 0, estimated_requests: 0, ...expectedTokens(simulator) });
    expect(simulator.stats.usage.answers).toBe(requests);
  });

  it('enforces a daily budget across the replicas: once spent, every replica refuses', async () => {
    // Each answer costs about $0.00003 at PRICING; the budget allows a handful.
    const key = await createKey(urls()[0]!, { name: 'shared budget', budget: { dailyUsd: 0.0001 } });
    const clients = urls().map((url) => clientWith(url, key.secret));
    let answered = 0;
    let refusedAt: number | undefined;
    for (let index = 0; index < 30 && refusedAt === undefined; index += 1) {
      try {
        await clients[index % 3]!.chat.completions.create({ model: 'sim-model', messages: [{ role: 'user', content: `request ${index}` }] });
        answered += 1;
      } catch (error) {
        expect(error).toMatchObject({ status: 429, code: 'insufficient_quota' });
        refusedAt = index;
      }
    }
    expect(refusedAt).toBeDefined();
    // Requests went to all three replicas before the budget ran out.
    expect(answered).toBeGreaterThanOrEqual(3);
    for (const client of clients) {
      const refused = await captureApiError(client.chat.completions.create({ model: 'sim-model', messages: [{ role: 'user', content: 'more' }] }));
      expect(refused.code).toBe('insufficient_quota');
    }
    const usage = await settledUsage(urls()[1]!, `/admin/usage?key=${key.id}`);
    // The refused requests are recorded too, as failed and free.
    expect(usage.totals).toMatchObject({ requests: answered + 4, failed_requests: 4 });
    // Sequential requests overshoot by at most the one that crossed the line.
    expect(usage.totals.cost_usd).toBeGreaterThanOrEqual(0.0001);
    const perRequest = usage.totals.cost_usd / answered;
    expect(perRequest).toBeGreaterThan(0.00002);
    expect(usage.totals.cost_usd - 0.0001).toBeLessThan(perRequest * 1.01);
    expect(simulator.stats.requests).toBe(answered);
  });
});

describe('usage records while Redis is down (cluster mode, a redis-server of the test’s own)', () => {
  let redisServer: PrivateRedisServer;
  let cluster: ClusterHarness;
  let simulator: Simulator;
  beforeAll(async () => {
    // Kept on disk, so that what was written before the outage is still there after it.
    redisServer = await PrivateRedisServer.start(['--appendonly', 'yes', '--appendfsync', 'always']);
    simulator = await startSimulator({ models: simulatedModels(), apiKey: SIMULATOR_KEY });
    const document: Record<string, unknown> = {
      logging: { level: 'info' },
      prober: { embedded: false },
      redis: { commandTimeoutMs: 200 },
      backends: [{ name: 'sim', baseUrl: simulator.baseUrl, apiKey: SIMULATOR_KEY, models: [] }],
    };
    priceModels(document);
    cluster = await startClusterHarness({ replicas: 1, redisUrl: redisServer.url, document });
  });
  afterAll(async () => {
    await redisServer.start().catch(() => undefined);
    await cluster?.close();
    await simulator?.close();
    await redisServer?.dispose();
  });

  it('keeps answering, holds the records in memory, and writes every one once Redis is back', async () => {
    const url = cluster.gateways[0]!.url;
    const client = clientWith(url, 'open-mode');
    const ask = () => client.chat.completions.create({ model: 'sim-model', messages: [{ role: 'user', content: 'count me' }] });
    for (let index = 0; index < 5; index += 1) await ask();
    await redisServer.stop();
    // Answers do not wait for Redis: each one is served, its record spooled.
    for (let index = 0; index < 10; index += 1) await ask();
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/dosrouter_usage_records_total\{result="spooled"\} (\d+)/);
    await redisServer.start();
    const usage = await (async () => {
      let answer: UsageAnswer | undefined;
      await eventually(async () => {
        const response = await fetch(`${url}/v1/usage`);
        if (!response.ok) return false;
        answer = (await response.json()) as UsageAnswer;
        return answer.pending_records === 0 && answer.totals.requests === 15;
      }, 15_000).catch((error: unknown) => {
        throw new Error(`${String(error)}; last answer: ${JSON.stringify(answer)}`);
      });
      return answer!;
    })();
    expect(usage.totals).toMatchObject({ requests: 15, failed_requests: 0, ...expectedTokens(simulator) });
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/dosrouter_usage_spool_records 0/);
  });
});
