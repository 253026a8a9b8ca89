import { describe, expect, it } from 'vitest';
import { LimiterFailedError } from '../limiter-errors.js';
import { MemoryLimiter } from './memory-limiter.js';

describe('MemoryLimiter', () => {
  const scopes = (limits: Record<string, number>) => ({ key: { id: 'key:k', limits }, deployments: [{ id: 'deployment:a', limits: {} }] });

  it('admits the per-minute count, then opens a new window a minute after the first request', async () => {
    let now = 1_000;
    const limiter = new MemoryLimiter(() => now);
    const admitted = [];
    for (let index = 0; index < 4; index += 1) admitted.push((await limiter.admit({ requestId: `r${index}`, estimatedTokens: 1, ...scopes({ requestsPerMinute: 3 }) })).admitted);
    expect(admitted).toEqual([true, true, true, false]);
    now += 59_999;
    expect((await limiter.admit({ requestId: 'r5', estimatedTokens: 1, ...scopes({ requestsPerMinute: 3 }) })).admitted).toBe(false);
    now += 1;
    expect((await limiter.admit({ requestId: 'r6', estimatedTokens: 1, ...scopes({ requestsPerMinute: 3 }) })).admitted).toBe(true);
  });

  it('enforces its share of each limit (a replica while Redis is down)', async () => {
    const limiter = new MemoryLimiter(() => 0, () => 1 / 3);
    let admitted = 0;
    for (let index = 0; index < 10; index += 1) if ((await limiter.admit({ requestId: `r${index}`, estimatedTokens: 1, ...scopes({ requestsPerMinute: 9 }) })).admitted) admitted += 1;
    expect(admitted).toBe(3);
  });

  it('settles tokens and frees concurrency slots on release', async () => {
    const limiter = new MemoryLimiter(() => 0);
    const first = await limiter.admit({ requestId: 'a', estimatedTokens: 90, ...scopes({ tokensPerMinute: 100, concurrency: 1 }) });
    if (!first.admitted) throw new Error('expected an admission');
    expect(await limiter.admit({ requestId: 'b', estimatedTokens: 5, ...scopes({ tokensPerMinute: 100, concurrency: 1 }) })).toMatchObject({ admitted: false, limit: 'concurrency' });
    expect(limiter.concurrencyRoom(scopes({ concurrency: 1 }).key)).toBe(0);
    await limiter.release({ requestId: 'a', tokenCorrection: -80, scopes: [{ id: 'key:k', windowStart: first.key!.windowStart, hasConcurrencyLimit: true }] });
    expect(limiter.concurrencyRoom(scopes({ concurrency: 1 }).key)).toBe(1);
    expect(await limiter.admit({ requestId: 'c', estimatedTokens: 85, ...scopes({ tokensPerMinute: 100, concurrency: 1 }) })).toMatchObject({ admitted: true });
  });

  it('refuses an estimate that is not a whole number from 0, and counts nothing for it', async () => {
    const limiter = new MemoryLimiter(() => 0);
    for (const estimatedTokens of [1.5, -1000, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(limiter.admit({ requestId: `bad-${estimatedTokens}`, estimatedTokens, ...scopes({ tokensPerMinute: 100 }) })).rejects.toBeInstanceOf(LimiterFailedError);
    }
    expect(await limiter.admit({ requestId: 'good', estimatedTokens: 100, ...scopes({ tokensPerMinute: 100 }) })).toMatchObject({ admitted: true, key: { tokens: 100, requests: 1 } });
    await expect(limiter.release({ requestId: 'good', tokenCorrection: 0.5, scopes: [] })).rejects.toBeInstanceOf(LimiterFailedError);
  });
});
