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
  /**
   * The events each board heard from the other, with whether its circuit was open right after applying one: an
   * announced open lasts only the 300 ms cooldown, which a busy machine can sleep through before a test looks.
   */
  let heard: (BreakerEvent & { openAfter: boolean })[][];
  const heardOpen = (index: number, from: string): boolean => heard[index]!.some((event) => event.replica === from && event.state === 'open' && event.openAfter);

  beforeEach(async () => {
    test = await testRedis('breakers');
    stores = [0, 1].map(() => new RedisBreakerStore(test.redis, connectSubscriber(test.redis, 'test-breakers'), test.keys));
    boards = ['replica-a', 'replica-b'].map((replica, index) => new BreakerBoard(catalog.deployments(), replica, stores[index], silent));
    heard = [[], []];
    await Promise.all(
      stores.map((store, index) =>
        store.subscribe((event: BreakerEvent) => {
          boards[index]!.apply(event);
          heard[index]!.push({ ...event, openAfter: boards[index]!.isOpen(event.deploymentId) });
        }),
      ),
    );
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
    await eventually(() => !boards[1]!.isOpen('b/m') && !boards[0]!.isOpen('b/m'), 10_000, 'both half-open after the cooldown');
    expect((await boards[1]!.run('b/m', failing)).ok).toBe(false);
    expect(boards[1]!.isOpen('b/m')).toBe(true);
    await eventually(() => heardOpen(0, 'replica-b'), 10_000, 'replica-a opened by replica-b’s failed trial');
    await eventually(() => !boards[0]!.isOpen('b/m'), 10_000, 'replica-a half-open again');
    expect((await boards[0]!.run('b/m', async () => ok)).ok).toBe(true);
    await eventually(() => boards.every((board) => board.states().get('b/m') === 'closed'), 10_000, 'closed on both');
  });

  it('lets exactly one trial request through cluster-wide when the circuit half-opens, and closes it everywhere', async () => {
    await boards[0]!.run('b/m', failing);
    await boards[0]!.run('b/m', failing);
    expect(boards[0]!.isOpen('b/m')).toBe(true);
    await eventually(() => heardOpen(1, 'replica-a'), 10_000, 'replica-b opened by replica-a');
    // The shared circuit key has a TTL (the cooldown), or has already expired with it: it never outlives the cooldown.
    expect(await test.redis.pttl(test.keys.breaker('b/m'))).not.toBe(-1);

    // After the cooldown both replicas are half-open; a trial on each at once: one runs, one is refused. The trial
    // that runs is held until the other has been either refused or let through as well, however slow the machine.
    await eventually(() => !boards[0]!.isOpen('b/m') && !boards[1]!.isOpen('b/m'), 10_000, 'both half-open after the cooldown');
    let trials = 0;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const heldSuccess = async (): Promise<AttemptResult> => {
      trials += 1;
      await released;
      return ok;
    };
    let settled = 0;
    const runs = boards.map((board) => board.run('b/m', heldSuccess).finally(() => (settled += 1)));
    await eventually(() => trials + settled === 2, 10_000, 'both runs either trying or refused');
    release();
    const results = await Promise.all(runs);
    expect(trials).toBe(1);
    expect(results.filter((result) => result.ok)).toHaveLength(1);
    expect(results.find((result) => !result.ok)).toMatchObject({ error: { code: 'circuit_open' } });

    // The successful trial closed the circuit on its replica, which tells the other.
    await eventually(() => boards.every((board) => board.states().get('b/m') === 'closed'), 10_000, 'closed on both');
    expect(await test.redis.exists(test.keys.breaker('b/m'))).toBe(0);
  });
});
