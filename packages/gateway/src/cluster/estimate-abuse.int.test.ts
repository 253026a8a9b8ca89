import { createHash } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@dosrouter/provider-sim';
import { testRedis, type TestRedis } from '../../../shared/src/test-support/redis.js';
import { startClusterHarness, type ClusterHarness } from '../test-support/cluster-harness.js';
import { captureApiError } from '../test-support/harness.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TPM = 5_000;

async function degradedGauge(cluster: ClusterHarness, replica: number): Promise<string | undefined> {
  const text = await cluster.gateways[replica]!.metrics.registry.metrics();
  return /^dosrouter_redis_degraded (\S+)$/m.exec(text)?.[1];
}

/** What one client can send to every admitted route with a field the token estimate reads. */
function abusiveCalls(client: OpenAI, value: number): { field: string; call: () => Promise<unknown> }[] {
  const extra = (field: string) => ({ [field]: value }) as Record<string, number>;
  return [
    ...['max_tokens', 'max_completion_tokens', 'n'].map((field) => ({
      field,
      call: () => client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...extra(field) }),
    })),
    ...['max_tokens', 'max_completion_tokens', 'n'].map((field) => ({ field, call: () => client.completions.create({ model: 'm', prompt: 'hi', ...extra(field) }) })),
    ...['max_tokens', 'max_completion_tokens', 'n'].map((field) => ({ field, call: () => client.embeddings.create({ model: 'm', input: 'hi', ...extra(field) }) })),
  ];
}

describe('token-estimate inputs from one client cannot harm another', () => {
  let simulator: Simulator;
  let cluster: ClusterHarness;
  let inspect: TestRedis;

  beforeAll(async () => {
    simulator = await startSimulator({ models: [{ id: 'm', outputTokens: 1_000 }] });
    cluster = await startClusterHarness({
      replicas: 2,
      redisUrl: REDIS_URL,
      document: {
        // Closed: a replica that took a bad estimate for a Redis outage would refuse every other key with 503. A
        // deadline a busy machine cannot miss: only a script's own error may be at play here.
        redis: { failMode: 'closed', commandTimeoutMs: 5_000 },
        limits: { perKey: { tokensPerMinute: TPM } },
        backends: [{ name: 'sim', baseUrl: simulator.baseUrl, models: [{ name: 'm' }] }],
      },
    });
    inspect = await testRedis('estimate-abuse');
  });
  afterAll(async () => {
    await cluster?.close();
    await inspect?.cleanup();
    await simulator?.close();
  });

  it('answers fractional and negative values with a 400 naming the field; Redis stays in use and key B is admitted', async () => {
    for (const value of [1.5, -1_000_000]) {
      for (const { field, call } of abusiveCalls(cluster.client(0, { apiKey: 'key-a' }), value)) {
        const error = await captureApiError(call());
        expect(error.status, `${field}: ${value}`).toBe(400);
        expect(error.error).toMatchObject({ param: field, code: 'invalid_value', type: 'invalid_request_error' });
      }
    }
    expect(await degradedGauge(cluster, 0)).toBe('0');
    expect(await degradedGauge(cluster, 1)).toBe('0');
    const admitted = await cluster.client(0, { apiKey: 'key-b' }).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 10 });
    expect(admitted.choices[0]?.message.content).toBeTruthy();
    // Nothing of key A reached the limiter: no window of its own, and no degraded log line.
    const windows = await inspect.redis.keys(`${cluster.prefix}:*:{limits}:window:*`);
    expect(windows).toHaveLength(1);
    expect(cluster.logs.flatMap((log) => log.lines).filter((line) => String(line.message).startsWith('degraded'))).toEqual([]);
  });

  it('keeps a 5,000-TPM key within its limit when 40 concurrent requests ask for negative tokens', async () => {
    const apiKey = 'key-negative';
    const negative = Array.from({ length: 40 }, (_, index) => {
      const { call } = abusiveCalls(cluster.client(index % 2, { apiKey }), -100_000)[index % 9]!;
      return call().then(
        () => 200,
        (error: { status?: number }) => error.status ?? 0,
      );
    });
    // Honest requests of the same key, at the same moment: each reserves about 1,000 tokens and uses as many.
    const honest = Array.from({ length: 20 }, (_, index) =>
      cluster
        .client(index % 2, { apiKey })
        .completions.create({ model: 'm', prompt: 'hi', max_tokens: 1_000 })
        .then(
          () => 200,
          (error: { status?: number }) => error.status ?? 0,
        ),
    );
    const [negativeStatuses, honestStatuses] = await Promise.all([Promise.all(negative), Promise.all(honest)]);
    expect(negativeStatuses.every((status) => status === 400)).toBe(true);
    expect(honestStatuses.filter((status) => status === 200).length).toBeLessThanOrEqual(TPM / 1_000);
    expect(honestStatuses.filter((status) => status !== 200).every((status) => status === 429)).toBe(true);
  });

  it('answers a script’s own error with a 500 for that request, logs it once, and stays on Redis', async () => {
    // A window an older release left with a fraction in it: the admission script's HINCRBY fails on it.
    const scope = `key:${createHash('sha256').update('key-corrupt').digest('hex').slice(0, 32)}`;
    const [seconds] = (await inspect.redis.call('TIME')) as [string, string];
    await inspect.redis.hset(`${cluster.prefix}:v1:{limits}:window:${scope}`, 'start', Number(seconds) * 1000, 'requests', 1, 'tokens', '2.5');
    await inspect.redis.pexpire(`${cluster.prefix}:v1:{limits}:window:${scope}`, 60_000);
    for (let index = 0; index < 3; index += 1) {
      const error = await captureApiError(cluster.client(0, { apiKey: 'key-corrupt' }).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }));
      expect(error.status).toBe(500);
      expect(error.error).toMatchObject({ code: 'limiter_failed', type: 'server_error' });
      expect(error.headers.get('x-should-retry')).toBe('false');
    }
    expect(await degradedGauge(cluster, 0)).toBe('0');
    const admitted = await cluster.client(0, { apiKey: 'key-b' }).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 10 });
    expect(admitted.choices[0]?.message.content).toBeTruthy();
    const reports = cluster.logs[0]!.lines.filter((line) => String(line.message).startsWith('a Redis command failed with an error of its own'));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ level: 'error', failures: 1 });
    expect(String(reports[0]!.error)).toMatch(/not an integer/);
    expect(cluster.logs[0]!.lines.filter((line) => line.message === 'unhandled error')).toEqual([]);
  });
});
