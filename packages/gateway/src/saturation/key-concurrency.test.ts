import { describe, expect, it } from 'vitest';
import { MemoryLimiter, configSchema, type AdmissionResult, type LimitScope } from '@dosrouter/shared';
import { GatewayMetrics } from '../telemetry/metrics.js';
import { KeyConcurrency } from './key-concurrency.js';

const KEY: LimitScope = { id: 'key:one', limits: { concurrency: 1 } };
const DEPLOYMENT: LimitScope = { id: 'deployment:d', limits: {} };
const place = { flow: 'one', priority: 'normal', weight: 1 } as const;

/** A replica's key queue over one process's limiter, and a way to admit or release as another replica would. */
function setup() {
  const limiter = new MemoryLimiter(Date.now);
  const config = configSchema.parse({ backends: [{ name: 'b', baseUrl: 'http://127.0.0.1:1/v1', models: [{ name: 'm' }] }] }).saturation;
  const keys = new KeyConcurrency(limiter, config, new GatewayMetrics(), () => performance.now());
  const admitOf = (requestId: string) => (): Promise<AdmissionResult> => limiter.admit({ requestId, key: KEY, deployments: [DEPLOYMENT], estimatedTokens: 1 });
  const release = (requestId: string) => limiter.release({ requestId, scopes: [{ id: KEY.id, windowStart: 0, hasConcurrencyLimit: true }], tokenCorrection: 0 });
  const enter = (requestId: string, signal = new AbortController().signal) => keys.admit(KEY, { place, signal, timeoutMs: 30_000 }, admitOf(requestId));
  return { keys, release, enter };
}

describe('KeyConcurrency', () => {
  it('admits at once under the limit and queues past it, letting the next through when a request of the key ends here', async () => {
    const { keys, release, enter } = setup();
    expect((await enter('a'))?.result.admitted).toBe(true);
    let admitted = false;
    const b = enter('b').then((admission) => (admitted = admission?.result.admitted === true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(admitted).toBe(false);
    await release('a');
    keys.released(KEY.id);
    await b;
    expect(admitted).toBe(true);
  });

  it('puts a waiter whose slot went to another replica back at the head of the queue', async () => {
    const { keys, release, enter } = setup();
    await enter('a');
    const order: string[] = [];
    const b = enter('b').then((admission) => admission?.result.admitted && order.push('b'));
    const c = enter('c').then((admission) => admission?.result.admitted && order.push('c'));
    // A release seen here whose slot another replica took back at once: b is let through, refused, and waits again.
    keys.released(KEY.id);
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([]);
    await release('a');
    keys.released(KEY.id);
    await b;
    expect(order).toEqual(['b']);
    await release('b');
    keys.released(KEY.id);
    await c;
    expect(order).toEqual(['b', 'c']);
  });
});
