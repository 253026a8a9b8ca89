import { describe, expect, it } from 'vitest';
import type { DeploymentStats } from '@dosrouter/shared';
import { WeightsKeeper } from './weights-keeper.js';
import { MemoryWeightsStore, type WeightsUpdate } from './weights-store.js';

function keeper(stats: Map<string, DeploymentStats> = new Map(), failStats = false) {
  const published: WeightsUpdate[] = [];
  let now = 1_000;
  const instance = new WeightsKeeper({
    deployments: [
      { id: 'a/m', configuredWeight: 3 },
      { id: 'b/m', configuredWeight: 1 },
    ],
    store: new MemoryWeightsStore((update) => published.push(update)),
    readStats: async (ids) => {
      if (failStats) throw new Error('Redis is down');
      return new Map(ids.flatMap((id) => (stats.has(id) ? [[id, stats.get(id)!] as const] : [])));
    },
    clock: () => (now += 100),
  });
  return { keeper: instance, published, at: () => now };
}

describe('WeightsKeeper', () => {
  it('publishes every deployment at its configured weight until evidence says otherwise', async () => {
    const { keeper: subject } = keeper();
    const update = await subject.recompute();
    expect(update.document.weights).toEqual({ 'a/m': 3, 'b/m': 1 });
  });

  it('takes a deployment to 0 after two failed probes, leaving the others alone', async () => {
    const { keeper: subject, at } = keeper();
    await subject.recordProbe('b/m', { ok: false, latencyMs: 5, at: at() });
    const second = await subject.recordProbe('b/m', { ok: false, latencyMs: 5, at: at() });
    expect(second.document.weights).toEqual({ 'a/m': 3, 'b/m': 0 });
    expect(second.health.get('b/m')?.state).toBe('down');
    expect(second.previous.get('b/m')?.state).toBe('degraded');
  });

  it('lowers a deployment with a high error rate in the replicas’ stats between probes', async () => {
    const { keeper: subject } = keeper(new Map([['a/m', { requests: 100, errorRate: 0.5 }]]));
    const update = await subject.recompute();
    expect(update.document.weights['a/m']).toBeLessThan(3);
    expect(update.document.weights['b/m']).toBe(1);
  });

  it('goes on without stats when they cannot be read', async () => {
    const { keeper: subject, at } = keeper(new Map(), true);
    const update = await subject.recordProbe('a/m', { ok: true, latencyMs: 5, at: at() });
    expect(update.document.weights).toEqual({ 'a/m': 3, 'b/m': 1 });
  });
});
