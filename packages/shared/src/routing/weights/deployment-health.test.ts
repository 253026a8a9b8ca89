import { describe, expect, it } from 'vitest';
import { initialHealth, parseDeploymentHealth } from './deployment-health.js';
import { nextHealth } from './next-health.js';

describe('a stored deployment health record', () => {
  it('reads back what the engine wrote, through JSON', () => {
    let health = initialHealth(5, 1_000);
    health = nextHealth(health, { configuredWeight: 5, probe: { ok: true, latencyMs: 120, at: 2_000 }, now: 2_000 });
    health = nextHealth(health, { configuredWeight: 5, probe: { ok: false, latencyMs: 3_000, at: 3_000 }, now: 3_000 });
    expect(parseDeploymentHealth(JSON.parse(JSON.stringify(health)))).toEqual(health);
  });

  it('reads back a record that has no probe yet', () => {
    const health = initialHealth(5, 1_000);
    expect(parseDeploymentHealth(JSON.parse(JSON.stringify(health)))).toEqual(health);
  });

  it('is undefined for anything else, so the prober starts that deployment afresh', () => {
    const valid = JSON.parse(JSON.stringify(initialHealth(5, 1_000))) as Record<string, unknown>;
    expect(parseDeploymentHealth(null)).toBeUndefined();
    expect(parseDeploymentHealth('healthy')).toBeUndefined();
    expect(parseDeploymentHealth([])).toBeUndefined();
    expect(parseDeploymentHealth({ ...valid, state: 'sleeping' })).toBeUndefined();
    expect(parseDeploymentHealth({ ...valid, score: 1.5 })).toBeUndefined();
    expect(parseDeploymentHealth({ ...valid, weight: -1 })).toBeUndefined();
    expect(parseDeploymentHealth({ ...valid, consecutiveFailures: 1.5 })).toBeUndefined();
    expect(parseDeploymentHealth({ ...valid, lastProbeAt: 'yesterday' })).toBeUndefined();
    expect(parseDeploymentHealth({ ...valid, lastChangeAt: undefined })).toBeUndefined();
  });

  it('drops fields it does not know', () => {
    const valid = JSON.parse(JSON.stringify(initialHealth(5, 1_000))) as Record<string, unknown>;
    expect(parseDeploymentHealth({ ...valid, extra: true })).toEqual(initialHealth(5, 1_000));
  });
});
