import { describe, expect, it } from 'vitest';
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
    await limiter.release({ requestId: 'a', tokenCorrection: -80, scopes: [{ id: 'key:k', windowStart: first.key!.windowStart, hasConcurrencyLimit: true }] });
    expect(await limiter.admit({ requestId: 'c', estimatedTokens: 85, ...scopes({ tokensPerMinute: 100, concurrency: 1 }) })).toMatchObject({ admitted: true });
  });
});
