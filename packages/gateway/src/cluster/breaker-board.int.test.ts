import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { RedisBreakerStore, configSchema, connectSubscriber, createLogger, ModelCatalog, type BreakerEvent } from '@dosrouter/shared';
import { testRedis, type TestRedis } from '../../../shared/src/test-support/redis.js';
import { eventually } from '../test-support/harness.js';
import type { AttemptResult } from '../upstream/attempt.js';
import { BreakerBoard } from './breaker-board.js';

const silent = createLogger({ level: 'error', service: 'test', destination: new Writable({ write: (_chunk, _encoding, callback) => callback() }) });
const catalog = new ModelCatalog(
  configSchema.parse({
    breakers: { volumeThreshold: 2, errorThresholdPercentage: 50, cooldownMs: 300 },
    backends: [{ name: 'b', baseUrl: 'http://127.0.0.1:1/v1', models: [{ name: 'm' }] }],
  }),
);
const ok: AttemptResult = { ok: true };

describe('breakers shared by two replicas', () => {
  let test: TestRedis;
  let boards: BreakerBoard[];
  let stores: RedisBreakerStore[];

  beforeEach(async () => {
    test = await testRedis('breakers');
    stores = [0, 1].map(() => new RedisBreakerStore(test.redis, connectSubscriber(test.redis, 'test-breakers'), test.keys));
    boards = ['replica-a', 'replica-b'].map((replica, index) => new BreakerBoard(catalog.deployments(), replica, stores[index], silent));
    await Promise.all(stores.map((store, index) => store.subscribe((event: BreakerEvent) => boards[index]!.apply(event))));
  });
  afterEach(async () => {
    for (const board of boards) board.shutdown();
    await Promise.all(stores.map((store) => store.close()));
    await test.cleanup();
  });

  const failing = async (): Promise<AttemptResult> => {
    const { GatewayError } = await import('@dosrouter/shared');
    return { ok: false, error: new GatewayError('backend down', { status: 503, code: 'upstream_error' }) };
  };

  it('opens the circuit everywhere again when the trial fails, and gives the next cooldown a new trial', async () => {
    await boards[0]!.run('b/m', failing);
    await boards[0]!.run('b/m', failing);
    await eventually(() => !boards[1]!.isOpen('b/m') && !boards[0]!.isOpen('b/m'), 2_000);
    expect((await boards[1]!.run('b/m', failing)).ok).toBe(false);
    expect(boards[1]!.isOpen('b/m')).toBe(true);
    await eventually(() => boards[0]!.isOpen('b/m'), 1_000);
    await eventually(() => !boards[0]!.isOpen('b/m'), 2_000);
    expect((await boards[0]!.run('b/m', async () => ok)).ok).toBe(true);
    await eventually(() => boards.every((board) => board.states().get('b/m') === 'closed'), 1_000);
  });

  it('lets exactly one trial request through cluster-wide when the circuit half-opens, and closes it everywhere', async () => {
    await boards[0]!.run('b/m', failing);
    await boards[0]!.run('b/m', failing);
    expect(boards[0]!.isOpen('b/m')).toBe(true);
    await eventually(() => boards[1]!.isOpen('b/m'), 1_000);
    expect(await test.redis.pttl(test.keys.breaker('b/m'))).toBeGreaterThan(0);

    // After the cooldown both replicas are half-open; a slow trial on each at once: one runs, one is refused.
    await eventually(() => !boards[0]!.isOpen('b/m') && !boards[1]!.isOpen('b/m'), 2_000);
    let trials = 0;
    const slowSuccess = async (): Promise<AttemptResult> => {
      trials += 1;
      await new Promise((resolve) => setTimeout(resolve, 100));
      return ok;
    };
    const results = await Promise.all(boards.map((board) => board.run('b/m', slowSuccess)));
    expect(trials).toBe(1);
    expect(results.filter((result) => result.ok)).toHaveLength(1);
    expect(results.find((result) => !result.ok)).toMatchObject({ error: { code: 'circuit_open' } });

    // The successful trial closed the circuit on its replica, which tells the other.
    await eventually(() => boards.every((board) => board.states().get('b/m') === 'closed'), 1_000);
    expect(await test.redis.exists(test.keys.breaker('b/m'))).toBe(0);
  });
});
