import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@dosrouter/provider-sim';
import { testRedis, type TestRedis } from '../../../shared/src/test-support/redis.js';
import { startClusterHarness, type ClusterHarness } from '../test-support/cluster-harness.js';
import { eventually } from '../test-support/harness.js';

const messages = [{ role: 'user' as const, content: 'Hello there' }];
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('cluster mode: three replicas sharing one Redis', () => {
  let good: Simulator;
  let bad: Simulator;
  let cluster: ClusterHarness;
  let inspect: TestRedis;

  beforeAll(async () => {
    good = await startSimulator({ models: [{ id: 'm' }, { id: 'slow', interTokenDelayMs: 50, outputTokens: 1_200 }] });
    bad = await startSimulator({ models: [{ id: 'm', faultRates: { server_error: 1 } }] });
    cluster = await startClusterHarness({
      replicas: 3,
      redisUrl: REDIS_URL,
      document: {
        logging: { level: 'info' },
        // A deadline a busy machine cannot miss: the limit is exact while Redis answers in time (a slow Redis and
        // its bound are tested in slow-redis-limits.int.test.ts).
        redis: { commandTimeoutMs: 5_000 },
        limits: { perKey: { requestsPerMinute: 30 } },
        breakers: { volumeThreshold: 3, errorThresholdPercentage: 50, cooldownMs: 60_000 },
        backends: [
          { name: 'good', baseUrl: good.baseUrl, models: [{ name: 'limited' , upstreamModel: 'm' }, { name: 'tokens', upstreamModel: 'm' }, { name: 'flaky', upstreamModel: 'm' }, { name: 'slow' }] },
          { name: 'bad', baseUrl: bad.baseUrl, models: [{ name: 'flaky', upstreamModel: 'm', weight: 1000 }] },
        ],
      },
    });
    inspect = await testRedis('inspect');
  });
  afterAll(async () => {
    await cluster?.close();
    await inspect?.cleanup();
    await good?.close();
    await bad?.close();
  });

  afterEach(() => good.clearFaults());

  it('admits exactly the per-minute limit across replicas, then answers 429 with OpenAI’s headers', async () => {
    const statuses: number[] = [];
    const refusals: Headers[] = [];
    await Promise.all(
      Array.from({ length: 60 }, async (_, index) => {
        const call = cluster.client(index % 3, { apiKey: 'key-for-rpm' }).chat.completions.create({ model: 'limited', messages }).withResponse();
        try {
          await call;
          statuses.push(200);
        } catch (error) {
          statuses.push((error as { status: number }).status);
          refusals.push((error as { headers: Headers }).headers);
        }
      }),
    );
    expect(statuses.filter((status) => status === 200)).toHaveLength(30);
    expect(statuses.filter((status) => status === 429)).toHaveLength(30);
    const headers = refusals[0]!;
    expect(headers.get('x-ratelimit-limit-requests')).toBe('30');
    expect(headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+(\.\d)?s$/);
    expect(Number(headers.get('retry-after'))).toBeGreaterThan(0);
    expect(headers.get('x-should-retry')).toBe('true');
  });

  it('reserves an estimate and settles the key’s token window to the real usage', async () => {
    const apiKey = 'key-for-tokens';
    const scope = `key:${createHash('sha256').update(apiKey).digest('hex').slice(0, 32)}`;
    let used = 0;
    for (let index = 0; index < 3; index += 1) {
      const completion = await cluster.client(index, { apiKey }).chat.completions.create({ model: 'tokens', messages, max_tokens: 900 });
      used += completion.usage!.total_tokens;
    }
    await eventually(async () => Number(await inspect.redis.hget(`${cluster.prefix}:v1:{limits}:window:${scope}`, 'tokens')) === used, 10_000, 'the settled token window');
  });

  it('opens a circuit cluster-wide once one replica has seen the failures', async () => {
    for (let index = 0; index < 5; index += 1) {
      const completion = await cluster.client(0).chat.completions.create({ model: 'flaky', messages });
      expect(completion.choices[0]?.message.content).toBeTruthy();
    }
    expect(cluster.gateways[0]!.cluster.breakers.isOpen('bad/flaky')).toBe(true);
    // At once by pub/sub, else at the next poll (redis.pollIntervalMs, 1 s); the deadline leaves room for a busy machine.
    await eventually(() => cluster.gateways.every((gateway) => gateway.cluster.breakers.isOpen('bad/flaky')), 10_000, 'the circuit open on every replica');
    const badRequestsBefore = bad.stats.requests;
    for (let index = 0; index < 6; index += 1) await cluster.client(1 + (index % 2)).chat.completions.create({ model: 'flaky', messages });
    expect(bad.stats.requests).toBe(badRequestsBefore);
  });

  it('lets every replica read the rolling stats another wrote', async () => {
    for (let index = 0; index < 4; index += 1) await cluster.client(2, { apiKey: 'stats-key' }).chat.completions.create({ model: 'limited', messages });
    await eventually(() => (cluster.gateways[0]!.cluster.snapshot().stats.get('good/limited')?.requests ?? 0) >= 4, 10_000, 'the stats on replica 1');
  });

  it('counts a stream in flight cluster-wide while it runs', async () => {
    // A minute-long stream, ended by the client once the count has been seen: however slow the machine, it is still
    // running when replica 3 polls.
    const stream = await cluster.client(1).chat.completions.create({ model: 'slow', messages, stream: true });
    const reading = (async () => {
      for await (const chunk of stream) void chunk;
    })().catch(() => undefined);
    await eventually(() => cluster.gateways[2]!.cluster.snapshot().inFlight.get('good/slow') === 1, 10_000, 'the stream counted on replica 3');
    stream.controller.abort();
    await reading;
    await eventually(() => (cluster.gateways[2]!.cluster.snapshot().inFlight.get('good/slow') ?? 0) === 0, 10_000, 'the count back to 0 on replica 3');
  });
});
