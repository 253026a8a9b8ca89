import { describe, expect, it } from 'vitest';
import { ModelCatalog, configSchema } from '@dosrouter/shared';
import { localDeploymentSlots } from '../cluster/deployment-slots.js';
import { GatewayMetrics } from '../telemetry/metrics.js';
import { DeploymentSaturation } from './deployment-saturation.js';
import { NO_LIMIT } from './saturation-slot.js';

const deploymentsOf = (models: Record<string, number | undefined>) =>
  new ModelCatalog(
    configSchema.parse({
      backends: [{ name: 'b', baseUrl: 'http://127.0.0.1:1/v1', models: Object.entries(models).map(([name, maxConcurrent]) => ({ name, ...(maxConcurrent === undefined ? {} : { maxConcurrent }) })) }],
    }),
  ).deployments();

describe('DeploymentSaturation after a config reload', () => {
  it('limits a new deployment with maxConcurrent, frees one that lost it, and applies a changed limit', () => {
    const config = configSchema.parse({ backends: [{ name: 'b', baseUrl: 'http://127.0.0.1:1/v1', models: [{ name: 'x' }] }] }).saturation;
    const saturation = new DeploymentSaturation(deploymentsOf({ kept: 1, freed: 1 }), localDeploymentSlots, config, new GatewayMetrics(), () => 0);
    const next = deploymentsOf({ kept: 2, freed: undefined, added: 1 });
    const held = saturation.tryAcquire(deploymentsOf({ kept: 1 })[0]!);
    expect(held).not.toBe(NO_LIMIT);
    saturation.useDeployments(next);
    const [kept, freed, added] = next;
    expect(saturation.tryAcquire(freed!)).toBe(NO_LIMIT);
    const slot = saturation.tryAcquire(added!);
    expect(slot).not.toBe(NO_LIMIT);
    expect(saturation.tryAcquire(added!)).toBeUndefined();
    // `kept` went from 1 to 2: one slot was held before the reload, one more is free now, then none.
    expect(saturation.tryAcquire(kept!)).toBeDefined();
    expect(saturation.tryAcquire(kept!)).toBeUndefined();
  });
});
