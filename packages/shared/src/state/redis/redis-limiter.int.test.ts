import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testRedis, type TestRedis } from '../../test-support/redis.js';
import { eventually } from '../../test-support/eventually.js';
import type { LimitScope } from '../limits.js';
import { RedisLimiter } from './redis-limiter.js';

describe('the admitRequest and releaseRequest scripts', () => {
  let test: TestRedis;
  let limiter: RedisLimiter;
  beforeEach(async () => {
    test = await testRedis('limiter');
    limiter = new RedisLimiter(test.redis, test.keys, 30_000);
  });
  afterEach(() => test.cleanup());

  const key = (limits: LimitScope['limits']): LimitScope => ({ id: 'key:k1', limits });
  const deployment = (name: string, limits: LimitScope['limits'] = {}): LimitScope => ({ id: `deployment:${name}`, limits });
  let sequence = 0;
  const admit = (scopes: { key?: LimitScope; deployments: LimitScope[] }, estimatedTokens = 10) =>
    limiter.admit({ requestId: `r${++sequence}`, estimatedTokens, ...scopes });

  it('admits exactly the per-minute request count, then refuses with the time to the window’s end', async () => {
    const results = [];
    for (let index = 0; index < 7; index += 1) results.push(await admit({ key: key({ requestsPerMinute: 5 }), deployments: [deployment('a')] }));
    expect(results.filter((result) => result.admitted)).toHaveLength(5);
    const refused = results[5]!;
    expect(refused).toMatchObject({ admitted: false, refusedBy: 'key', limit: 'requests' });
    if (refused.admitted) throw new Error('expected a refusal');
    expect(refused.retryAfterMs).toBeGreaterThan(55_000);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('reports the key window for the x-ratelimit headers', async () => {
    await admit({ key: key({ requestsPerMinute: 5 }), deployments: [deployment('a')] }, 40);
    const second = await admit({ key: key({ requestsPerMinute: 5 }), deployments: [deployment('a')] }, 40);
    expect(second.key).toMatchObject({ requests: 2, tokens: 80 });
    expect(second.key?.resetMs).toBeGreaterThan(59_000);
  });

  it('reserves estimated tokens and refuses past the token limit', async () => {
    const scopes = { key: key({ tokensPerMinute: 100 }), deployments: [deployment('a')] };
    expect((await admit(scopes, 60)).admitted).toBe(true);
    expect(await admit(scopes, 60)).toMatchObject({ admitted: false, limit: 'tokens' });
  });

  it('settles a reservation to the real usage, in the window it was made in', async () => {
    const scopes = { key: key({ tokensPerMinute: 100 }), deployments: [deployment('a')] };
    const first = await admit(scopes, 80);
    if (!first.admitted || !first.key) throw new Error('expected an admission');
    await limiter.release({ requestId: `r${sequence}`, tokenCorrection: 15 - 80, scopes: [{ id: 'key:k1', windowStart: first.key.windowStart, hasConcurrencyLimit: false }] });
    expect(await test.redis.hget(test.keys.limitWindow('key:k1'), 'tokens')).toBe('15');
    expect((await admit(scopes, 80)).admitted).toBe(true);
  });

  it('leaves a window alone that is not the reservation’s', async () => {
    await admit({ key: key({ tokensPerMinute: 100 }), deployments: [deployment('a')] }, 50);
    await limiter.release({ requestId: 'old', tokenCorrection: -50, scopes: [{ id: 'key:k1', windowStart: 1, hasConcurrencyLimit: false }] });
    expect(await test.redis.hget(test.keys.limitWindow('key:k1'), 'tokens')).toBe('50');
  });

  it('holds a concurrency slot until release', async () => {
    const scopes = { key: key({ concurrency: 2 }), deployments: [deployment('a')] };
    expect((await admit(scopes)).admitted).toBe(true);
    const holder = `r${sequence}`;
    expect((await admit(scopes)).admitted).toBe(true);
    expect(await admit(scopes)).toMatchObject({ admitted: false, limit: 'concurrency', retryAfterMs: 1000 });
    // What waiters for the key read: the room admission would find.
    expect(await limiter.concurrencyRoom(scopes.key)).toBe(0);
    await limiter.release({ requestId: holder, tokenCorrection: 0, scopes: [{ id: 'key:k1', windowStart: 0, hasConcurrencyLimit: true }] });
    expect(await limiter.concurrencyRoom(scopes.key)).toBe(1);
    expect(await limiter.concurrencyRoom(key({}))).toBe(Number.POSITIVE_INFINITY);
    expect((await admit(scopes)).admitted).toBe(true);
  });

  // Leases expire on Redis's clock (TIME in the script): these tests wait for it, on states, with leases long enough
  // that a busy machine cannot pass one between two calls.
  it('frees the slots of a replica that stopped renewing once their lease expires', async () => {
    const shortLeases = new RedisLimiter(test.redis, test.keys, 1_000);
    const scopes = { key: key({ concurrency: 1 }), deployments: [deployment('a')], estimatedTokens: 1 };
    expect((await shortLeases.admit({ requestId: 'dead-1', ...scopes })).admitted).toBe(true);
    expect((await shortLeases.admit({ requestId: 'r-2', ...scopes })).admitted).toBe(false);
    let attempt = 0;
    await eventually(async () => (await shortLeases.admit({ requestId: `r-3.${(attempt += 1)}`, ...scopes })).admitted, 10_000, 'the expired slot free');
  });

  it('renews the leases of requests still running: a renewal moves the expiry to a lease from now', async () => {
    const leaseMs = 1_000;
    const shortLeases = new RedisLimiter(test.redis, test.keys, leaseMs);
    const scopes = { key: key({ concurrency: 1 }), deployments: [deployment('a')], estimatedTokens: 1 };
    await shortLeases.admit({ requestId: 'long-stream', ...scopes });
    const expiry = async (): Promise<number> => Number(await test.redis.zscore(test.keys.limitLeases('key:k1'), 'long-stream'));
    const admittedExpiry = await expiry();
    // Some time into the lease, so that a renewal shows as a later expiry.
    await eventually(() => Date.now() >= admittedExpiry - leaseMs + 20, 10_000, '20 ms into the lease');
    const renewingAt = Date.now();
    await shortLeases.renew([{ requestId: 'long-stream', scopeIds: ['key:k1'] }]);
    expect(await expiry()).toBeGreaterThanOrEqual(renewingAt + leaseMs);
    expect(await expiry()).toBeGreaterThan(admittedExpiry);
    expect((await shortLeases.admit({ requestId: 'r-2', ...scopes })).admitted).toBe(false);
  });

  it('takes the first deployment with room and reports its index', async () => {
    const deployments = [deployment('full', { requestsPerMinute: 1 }), deployment('free', { requestsPerMinute: 10 })];
    expect(await admit({ deployments })).toMatchObject({ admitted: true, deploymentIndex: 0 });
    expect(await admit({ deployments })).toMatchObject({ admitted: true, deploymentIndex: 1 });
    expect(await test.redis.hget(test.keys.limitWindow('deployment:free'), 'requests')).toBe('1');
  });

  it('refuses when every deployment is full, without counting the key', async () => {
    const deployments = [deployment('only', { requestsPerMinute: 1 })];
    await admit({ key: key({ requestsPerMinute: 100 }), deployments });
    expect(await admit({ key: key({ requestsPerMinute: 100 }), deployments })).toMatchObject({ admitted: false, refusedBy: 'deployments' });
    expect(await test.redis.hget(test.keys.limitWindow('key:k1'), 'requests')).toBe('1');
  });

  it('gives every key its TTL', async () => {
    await admit({ key: key({ requestsPerMinute: 5, concurrency: 3 }), deployments: [deployment('a')] });
    expect(await test.redis.pttl(test.keys.limitWindow('key:k1'))).toBeGreaterThan(59_000);
    expect(await test.redis.pttl(test.keys.limitLeases('key:k1'))).toBeGreaterThan(29_000);
  });

  it('admits exactly the limit when many callers race', async () => {
    const scopes = { key: key({ requestsPerMinute: 50 }), deployments: [deployment('a')] };
    const results = await Promise.all(Array.from({ length: 120 }, (_, index) => limiter.admit({ requestId: `race-${index}`, estimatedTokens: 1, ...scopes })));
    expect(results.filter((result) => result.admitted)).toHaveLength(50);
  });

  describe('admissions are idempotent by request id and admission number', () => {
    const scopes = () => ({ key: key({ requestsPerMinute: 10, tokensPerMinute: 1_000, concurrency: 5 }), deployments: [deployment('a', { requestsPerMinute: 10 })] });
    const window = async (scope: string) => test.redis.hgetall(test.keys.limitWindow(scope));

    it('answers an admission run twice with its first decision and counts it once', async () => {
      const request = { requestId: 'twice', estimatedTokens: 40, ...scopes() };
      const first = await limiter.admit(request);
      const again = await limiter.admit(request);
      expect(first).toMatchObject({ admitted: true, deploymentIndex: 0 });
      expect(again).toMatchObject({ admitted: true, deploymentIndex: 0, deploymentWindowStart: first.admitted ? first.deploymentWindowStart : -1, key: { requests: 1, tokens: 40 } });
      expect(await window('key:k1')).toMatchObject({ requests: '1', tokens: '40' });
      expect(await window('deployment:a')).toMatchObject({ requests: '1' });
      expect(await test.redis.zcard(test.keys.limitLeases('key:k1'))).toBe(1);
    });

    it('counts a failover admission of the same request as its own', async () => {
      await limiter.admit({ requestId: 'failover', estimatedTokens: 40, ...scopes() });
      expect(await limiter.admit({ requestId: 'failover', admission: 1, estimatedTokens: 40, deployments: [deployment('b', { requestsPerMinute: 10 })] })).toMatchObject({ admitted: true });
      expect(await window('deployment:b')).toMatchObject({ requests: '1' });
      expect(await window('deployment:a')).toMatchObject({ requests: '1' });
    });

    it('undoes a cancelled admission: counts, tokens and lease', async () => {
      const request = { requestId: 'late', estimatedTokens: 40, ...scopes() };
      await limiter.admit({ requestId: 'other', estimatedTokens: 5, ...scopes() });
      await limiter.admit(request);
      expect(await limiter.cancel(request)).toBe(true);
      expect(await window('key:k1')).toMatchObject({ requests: '1', tokens: '5' });
      expect(await window('deployment:a')).toMatchObject({ requests: '1' });
      expect(await test.redis.zrange(test.keys.limitLeases('key:k1'), '0', '-1')).toEqual(['other']);
      // Cancelled twice, or run again after its cancel: nothing more changes.
      expect(await limiter.cancel(request)).toBe(false);
      expect(await limiter.admit(request)).toMatchObject({ admitted: false, limit: 'cancelled' });
      expect(await window('key:k1')).toMatchObject({ requests: '1', tokens: '5' });
    });

    it('counts nothing for an admission that runs after its cancel', async () => {
      const request = { requestId: 'cancelled-first', estimatedTokens: 40, ...scopes() };
      expect(await limiter.cancel(request)).toBe(false);
      expect(await limiter.admit(request)).toMatchObject({ admitted: false, limit: 'cancelled' });
      expect(await test.redis.exists(test.keys.limitWindow('key:k1'), test.keys.limitLeases('key:k1'))).toBe(0);
      expect(await test.redis.pttl(test.keys.admissionRecord('cancelled-first'))).toBeGreaterThan(59_000);
    });

    it('keeps the record while the request runs, for a window, and forgets it on release', async () => {
      const first = await limiter.admit({ requestId: 'kept', estimatedTokens: 40, ...scopes() });
      if (!first.admitted) throw new Error('expected an admission');
      expect(await test.redis.pttl(test.keys.admissionRecord('kept'))).toBeGreaterThan(59_000);
      await limiter.release({ requestId: 'kept', tokenCorrection: -10, scopes: [{ id: 'key:k1', windowStart: first.key!.windowStart, hasConcurrencyLimit: true }] });
      expect(await test.redis.exists(test.keys.admissionRecord('kept'))).toBe(0);
    });

    it('keeps no record for an admission that counted nothing', async () => {
      expect(await limiter.admit({ requestId: 'unlimited', estimatedTokens: 40, deployments: [deployment('free')] })).toMatchObject({ admitted: true });
      expect(await test.redis.exists(test.keys.admissionRecord('unlimited'))).toBe(0);
    });
  });
});
