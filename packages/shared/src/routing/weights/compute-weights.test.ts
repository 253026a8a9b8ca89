import { describe, expect, it } from 'vitest';
import { computeWeights, type DeploymentObservation } from './compute-weights.js';
import type { DeploymentHealth } from './deployment-health.js';
import { createWeightPolicy } from './weight-policy.js';

const deployments = [
  { id: 'openai/gpt-4o-mini', configuredWeight: 3 },
  { id: 'groq/gpt-4o-mini', configuredWeight: 1 },
];

describe('computing the weights of every deployment in one run', () => {
  it('gives each deployment its configured weight while every probe succeeds', () => {
    const inputs = new Map<string, DeploymentObservation>([
      ['openai/gpt-4o-mini', { probe: { ok: true, latencyMs: 150, at: 1_000 } }],
      ['groq/gpt-4o-mini', { probe: { ok: true, latencyMs: 90, at: 1_000 } }],
    ]);
    const { weights, health } = computeWeights(deployments, new Map(), inputs, 1_000);
    expect(weights).toEqual(new Map([['openai/gpt-4o-mini', 3], ['groq/gpt-4o-mini', 1]]));
    expect(health.get('groq/gpt-4o-mini')).toMatchObject({ state: 'healthy', lastProbeAt: 1_000 });
  });

  it('drains one that fails two runs in a row and leaves the other alone', () => {
    let previous = new Map<string, DeploymentHealth>();
    let weights = new Map<string, number>();
    for (const at of [1_000, 16_000]) {
      const inputs = new Map<string, DeploymentObservation>([
        ['openai/gpt-4o-mini', { probe: { ok: false, latencyMs: 10_000, at } }],
        ['groq/gpt-4o-mini', { probe: { ok: true, latencyMs: 90, at } }],
      ]);
      ({ health: previous, weights } = computeWeights(deployments, previous, inputs, at));
    }
    expect(weights).toEqual(new Map([['openai/gpt-4o-mini', 0], ['groq/gpt-4o-mini', 1]]));
    expect(previous.get('openai/gpt-4o-mini')?.state).toBe('down');
  });

  it('keeps the previous health of a deployment with nothing new this run', () => {
    const policy = createWeightPolicy();
    const first = computeWeights(deployments, new Map(), new Map([['groq/gpt-4o-mini', { probe: { ok: false, latencyMs: 1, at: 1 } }]]), 1, policy);
    const second = computeWeights(deployments, first.health, new Map(), 2, policy);
    expect(second.health.get('groq/gpt-4o-mini')).toEqual(first.health.get('groq/gpt-4o-mini'));
  });

  it('drops deployments that are no longer listed', () => {
    const previous = computeWeights(deployments, new Map(), new Map(), 1).health;
    const { health, weights } = computeWeights(deployments.slice(0, 1), previous, new Map(), 2);
    expect([...health.keys()]).toEqual(['openai/gpt-4o-mini']);
    expect([...weights.keys()]).toEqual(['openai/gpt-4o-mini']);
  });
});
