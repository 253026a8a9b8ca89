import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '../../../shared/src/test-support/redis.js';
import { startClusterHarness, type ClusterHarness } from '../test-support/cluster-harness.js';
import { eventually } from '../test-support/harness.js';
import { HoldingBackend } from '../test-support/holding-backend.js';

/**
 * A key's concurrency across two gateway replicas sharing Redis: the limit is cluster-wide (the admission's
 * leases), and a slot that frees on one replica lets the key's waiter on the other through, seen by its poll.
 */
describe('per-key concurrency across two replicas sharing Redis', () => {
  const MODEL = 'held-model';
  let backend: HoldingBackend;
  let cluster: ClusterHarness;
  let baseUrl: string;
  beforeAll(async () => {
    backend = new HoldingBackend(MODEL);
    baseUrl = await backend.listen();
    cluster = await startClusterHarness({
      replicas: 2,
      redisUrl: TEST_REDIS_URL,
      document: {
        logging: { level: 'info' },
        redis: { commandTimeoutMs: 5_000, pollIntervalMs: 1_000 },
        limits: { perKey: { concurrency: 1 } },
        saturation: { queueTimeoutMs: 30_000 },
        prober: { embedded: false },
        backends: [{ name: 'held', baseUrl, models: [{ name: MODEL }] }],
      },
    });
  });
  afterAll(async () => {
    await cluster?.close();
    await backend?.close();
  });

  const ask = (replica: number, tag: string, apiKey = 'client-key-a') =>
    cluster.client(replica, { apiKey }).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: tag }] });

  async function waitingOn(replica: number): Promise<number> {
    const scrape = await fetch(`${cluster.gateways[replica]!.url}/metrics`).then((response) => response.text());
    return Number(/dosrouter_saturation_requests\{limit="key",state="waiting"\} (\d+)/.exec(scrape)?.[1] ?? NaN);
  }

  it("admits the key's waiter on replica 2 when its slot frees on replica 1, and never holds more than the limit", async () => {
    const first = ask(0, 'on replica 1');
    await eventually(() => backend.held.length === 1, 10_000);
    const second = ask(1, 'on replica 2');
    await eventually(async () => (await waitingOn(1)) === 1, 10_000);
    expect(backend.received).toBe(1);
    // Another key is not held up by the first key's wait, on either replica.
    const other = ask(1, 'other key', 'client-key-b');
    await eventually(() => backend.received === 2, 10_000);
    // The slot frees on replica 1: replica 2's waiter sees it within its poll (at most 100 ms here), not a 429.
    const held = backend.held.length;
    backend.release(1);
    const answered = await first;
    expect(answered.choices[0]!.message.content).toBe('released');
    await eventually(() => backend.received === 3, 10_000);
    expect(await waitingOn(1)).toBe(0);
    expect(backend.held.length).toBe(held);
    backend.release();
    expect((await second).choices[0]!.message.content).toBe('released');
    await other;
    expect(backend.bodies.map((body) => (body.messages as { content: string }[])[0]!.content)).toEqual(['on replica 1', 'other key', 'on replica 2']);
  });

  it('refuses the waiter with 429 and Retry-After when no slot frees anywhere before its deadline', async () => {
    const short = await startClusterHarness({
      replicas: 2,
      redisUrl: TEST_REDIS_URL,
      document: {
        logging: { level: 'info' },
        redis: { commandTimeoutMs: 5_000 },
        limits: { perKey: { concurrency: 1 } },
        saturation: { queueTimeoutMs: 300 },
        prober: { embedded: false },
        backends: [{ name: 'held', baseUrl, models: [{ name: MODEL }] }],
      },
    });
    try {
      const before = backend.received;
      const blocker = short.client(0, { apiKey: 'client-key-c' }).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'blocker' }] });
      await eventually(() => backend.received === before + 1, 10_000);
      const error = (await short
        .client(1, { apiKey: 'client-key-c' })
        .chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'late' }] })
        .catch((caught: unknown) => caught)) as InstanceType<typeof OpenAI.APIError>;
      expect(error.status).toBe(429);
      expect(error.code).toBe('key_concurrency_exceeded');
      expect(error.headers?.get('retry-after')).toBe('1');
      expect(backend.received).toBe(before + 1);
      backend.release();
      await blocker;
    } finally {
      await short.close();
    }
  });
});

