import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../logger/logger.js';
import { connectRedis } from '../state/redis/connection.js';
import { eventually } from '../test-support/eventually.js';
import { testRedis, TEST_REDIS_URL, type TestRedis } from '../test-support/redis.js';
import { usageRecord as record } from '../test-support/usage-records.js';
import { MemoryUsageLedger } from './memory-usage-ledger.js';
import { RedisUsageLedger, USAGE_GROUP } from './redis-usage-ledger.js';
import { UsageAggregator } from './usage-aggregator.js';
import { usageDay, usageMonth } from './usage-record.js';
import { summarizeUsage } from './usage-totals.js';
import type { UsageLedger } from './usage-ledger.js';

const logger = createLogger({ level: 'error', service: 'test' });
const TODAY = usageDay(Date.now());

const totalsOf = async (ledger: UsageLedger, groupBy: ('key' | 'model' | 'day')[] = []) =>
  summarizeUsage(await ledger.readDays([TODAY]), { from: TODAY, to: TODAY, groupBy });

describe('MemoryUsageLedger', () => {
  it('counts records into day totals and spend at once', async () => {
    const ledger = new MemoryUsageLedger();
    await ledger.append([
      record({ cacheReadTokens: 6, cacheWriteTokens: 2 }),
      record({ model: 'slow', status: 502, errorCode: 'upstream_error', costUsd: 0 }),
      record({ keyId: undefined, estimated: true }),
    ]);
    const { rows, totals } = await totalsOf(ledger, ['key', 'model']);
    expect(totals).toMatchObject({ requests: 3, failed_requests: 1, prompt_tokens: 30, completion_tokens: 15, total_tokens: 45, estimated_requests: 1 });
    expect(totals).toMatchObject({ cache_read_tokens: 6, cache_write_tokens: 2 });
    expect(totals.cost_usd).toBeCloseTo(0.000246, 12);
    expect(rows.map((row) => [row.key, row.model, row.requests])).toEqual([
      ['-', 'fast', 1],
      ['key_a', 'fast', 1],
      ['key_a', 'slow', 1],
    ]);
    expect(ledger.spentNanoUsd('key_a', TODAY)).toBe(123_000);
    expect(ledger.spentNanoUsd('key_a', usageMonth(Date.now()))).toBe(123_000);
    expect(await ledger.backlog()).toBe(0);
  });
});

describe('RedisUsageLedger and UsageAggregator', () => {
  let test: TestRedis;
  let aggregators: UsageAggregator[];
  const aggregator = (consumer: string, claimIdleMs = 60_000): UsageAggregator => {
    const started = new UsageAggregator({
      redis: connectRedis({ url: TEST_REDIS_URL, commandTimeoutMs: 5_000 }, `test-usage-${consumer}`),
      keys: test.keys,
      consumer,
      logger,
      claimIdleMs,
      claimIntervalMs: 100,
      dedupeSeconds: 600,
      retentionDays: 30,
      blockMs: 100,
    });
    aggregators.push(started);
    started.start();
    return started;
  };
  beforeEach(async () => {
    test = await testRedis('usage');
    aggregators = [];
  });
  afterEach(async () => {
    await Promise.all(aggregators.map((running) => running.stop()));
    await test.cleanup();
  });

  it('writes records to the stream and spend counters; an aggregator counts them into the day totals', async () => {
    const ledger = new RedisUsageLedger(test.redis, test.keys);
    await ledger.append([record(), record({ costUsd: 0.5 })]);
    expect(await test.redis.get(test.keys.spend('key_a', TODAY))).toBe(String(500_123_000));
    expect(await ledger.backlog()).toBe(2);
    aggregator('r1');
    await eventually(async () => (await ledger.backlog()) === 0, 5_000);
    const { totals } = await totalsOf(ledger);
    expect(totals).toMatchObject({ requests: 2, prompt_tokens: 20, completion_tokens: 10 });
    expect(totals.cost_usd).toBeCloseTo(0.500123, 12);
  });

  it('counts a duplicate entry of one record once', async () => {
    const ledger = new RedisUsageLedger(test.redis, test.keys);
    const once = record();
    // A write retried after its reply was lost lands twice in the stream.
    await ledger.append([once]);
    await ledger.append([once, record()]);
    aggregator('r1');
    await eventually(async () => (await ledger.backlog()) === 0, 5_000);
    expect((await totalsOf(ledger)).totals.requests).toBe(2);
  });

  it('several consumers share the stream and count every record exactly once', async () => {
    const ledger = new RedisUsageLedger(test.redis, test.keys);
    aggregator('r1');
    aggregator('r2');
    aggregator('r3');
    for (let batch = 0; batch < 20; batch += 1) await ledger.append(Array.from({ length: 50 }, () => record()));
    await eventually(async () => (await ledger.backlog()) === 0, 5_000);
    const { totals } = await totalsOf(ledger);
    expect(totals.requests).toBe(1_000);
    expect(totals.prompt_tokens).toBe(10_000);
  });

  it('claims the records a dead consumer read but never counted', async () => {
    const ledger = new RedisUsageLedger(test.redis, test.keys);
    await ledger.append([record(), record(), record()]);
    // A consumer that read the entries and died before counting them: they stay pending on it.
    await test.redis.xgroup('CREATE', test.keys.usageStream(), USAGE_GROUP, '0', 'MKSTREAM');
    const read = (await test.redis.xreadgroup('GROUP', USAGE_GROUP, 'dead-replica', 'COUNT', 10, 'STREAMS', test.keys.usageStream(), '>')) as [string, unknown[]][];
    expect(read[0]![1]).toHaveLength(3);
    aggregator('r1', 1_000);
    await eventually(async () => (await ledger.backlog()) === 0, 10_000);
    expect((await totalsOf(ledger)).totals.requests).toBe(3);
    const pending = (await test.redis.xpending(test.keys.usageStream(), USAGE_GROUP)) as [number, ...unknown[]];
    expect(pending[0]).toBe(0);
  });

  it('acknowledges and skips an entry that is not a usage record', async () => {
    const ledger = new RedisUsageLedger(test.redis, test.keys);
    await test.redis.xadd(test.keys.usageStream(), '*', 'r', '{"not":"a record"}');
    await ledger.append([record()]);
    aggregator('r1');
    await eventually(async () => (await ledger.backlog()) === 0, 5_000);
    expect((await totalsOf(ledger)).totals.requests).toBe(1);
  });
});
