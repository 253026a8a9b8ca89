import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectRedis, initialHealth, type DeploymentHealth } from '@dosrouter/shared';
import { TEST_REDIS_URL, testRedis, type TestRedis } from '../../../shared/src/test-support/redis.js';
import { RedisWeightsStore } from './redis-weights-store.js';

let test: TestRedis;
beforeEach(async () => {
  test = await testRedis('weights-store');
});
afterEach(() => test.cleanup());

/** A step that counts: one more success for `a/m` than the state it was computed from. */
const countOne = (state: { health: ReadonlyMap<string, DeploymentHealth> }): Map<string, DeploymentHealth> => {
  const previous = state.health.get('a/m') ?? initialHealth(1, 0);
  return new Map([['a/m', { ...previous, consecutiveSuccesses: previous.consecutiveSuccesses + 1 }]]);
};

describe('RedisWeightsStore', () => {
  it('never loses a step when probers write at the same moment: a step computed from an old read is computed again', async () => {
    const other = connectRedis({ url: TEST_REDIS_URL, commandTimeoutMs: 2_000 }, 'dosrouter-test-weights-store-2');
    await other.connect();
    try {
      const stores = [new RedisWeightsStore(test.redis, test.keys), new RedisWeightsStore(other, test.keys)];
      await Promise.all(Array.from({ length: 40 }, (_, index) => stores[index % 2]!.update(countOne, 1_000 + index)));
      const stored = JSON.parse((await test.redis.hget(test.keys.weightsHealth(), 'a/m'))!) as DeploymentHealth;
      expect(stored.consecutiveSuccesses).toBe(40);
      expect(await test.redis.get(test.keys.weightsRevision())).toBe('40');
    } finally {
      other.disconnect();
    }
  });

  it('announces a table only when it changed, and drops the records of deployments no longer listed', async () => {
    const store = new RedisWeightsStore(test.redis, test.keys);
    const both = new Map([
      ['a/m', initialHealth(1, 0)],
      ['b/m', initialHealth(1, 0)],
    ]);
    const first = await store.update(() => both, 1_000);
    const same = await store.update(() => both, 2_000);
    const fewer = await store.update(() => new Map([['a/m', initialHealth(1, 0)]]), 3_000);
    expect([first.changed, same.changed, fewer.changed]).toEqual([true, false, true]);
    expect([first.document.generation, same.document.generation, fewer.document.generation]).toEqual([1, 2, 3]);
    expect(await test.redis.hkeys(test.keys.weightsHealth())).toEqual(['a/m']);
    expect(await store.read()).toEqual(fewer.document);
  });

  it('starts a record it cannot read afresh instead of failing', async () => {
    await test.redis.hset(test.keys.weightsHealth(), 'a/m', '{"from":"a newer release"}');
    const store = new RedisWeightsStore(test.redis, test.keys);
    const update = await store.update(countOne, 1_000);
    expect(update.health.get('a/m')?.consecutiveSuccesses).toBe(1);
  });
});
