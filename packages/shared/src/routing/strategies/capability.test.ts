import { describe, expect, it } from 'vitest';
import type { Capability } from '../../config/schema.js';
import type { Deployment } from '../../catalog/catalog.js';
import { EMPTY_SNAPSHOT, type StrategyContext } from '../types.js';
import { capabilityStrategy } from './capability.js';
import { seededRandom } from '../../test-support/seeded-random.js';
import { testDeployment } from '../../test-support/deployments.js';

const deployment = (id: string, capabilities: Capability[], outputPerMTok = 1, weight = 1): Deployment =>
  testDeployment(id, { weight, capabilities: new Set(capabilities), pricing: { inputPerMTok: 0, outputPerMTok } });

function needing(...requiredCapabilities: Capability[]): StrategyContext {
  return { snapshot: EMPTY_SNAPSHOT, random: seededRandom(1), request: { stream: true, estimatedPromptTokens: 100, requiredCapabilities } };
}

const ids = (order: Deployment[]): string[] => order.map((entry) => entry.id);

describe('the capability strategy', () => {
  it('puts the closest match first: every required capability and the fewest others', () => {
    const candidates = [
      deployment('everything', ['streaming', 'tools', 'vision', 'reasoning'], 0.1),
      deployment('plain', ['streaming'], 0.1),
      deployment('tools', ['streaming', 'tools'], 5),
    ];
    expect(ids(capabilityStrategy.order(candidates, needing('streaming', 'tools')))).toEqual(['tools', 'everything', 'plain']);
  });

  it('orders equal matches by cost', () => {
    const candidates = [deployment('dear', ['streaming', 'vision'], 10), deployment('cheap', ['streaming', 'vision'], 1)];
    expect(ids(capabilityStrategy.order(candidates, needing('vision')))).toEqual(['cheap', 'dear']);
  });

  it('keeps deployments that lack a required capability last, fewest missing first', () => {
    const candidates = [deployment('none', []), deployment('vision', ['vision']), deployment('both', ['vision', 'tools'])];
    expect(ids(capabilityStrategy.order(candidates, needing('vision', 'tools')))).toEqual(['both', 'vision', 'none']);
  });

  it('prefers the plainest deployment when the request needs nothing in particular', () => {
    const candidates = [deployment('reasoning', ['streaming', 'reasoning']), deployment('plain', ['streaming'])];
    expect(ids(capabilityStrategy.order(candidates, { snapshot: EMPTY_SNAPSHOT, random: seededRandom(1) }))).toEqual(['plain', 'reasoning']);
  });

  it('shares equal matches at equal cost by weight (3:1 → 75% ± 3%)', () => {
    const candidates = [deployment('a', ['tools'], 1, 3), deployment('b', ['tools'], 1, 1)];
    const context = needing('tools');
    const rounds = 10_000;
    let firstA = 0;
    for (let index = 0; index < rounds; index += 1) {
      if (capabilityStrategy.order(candidates, context)[0]?.id === 'a') firstA += 1;
    }
    expect(firstA / rounds).toBeGreaterThan(0.72);
    expect(firstA / rounds).toBeLessThan(0.78);
  });

  it('leaves out a drained deployment even when it matches best', () => {
    const snapshot = { ...EMPTY_SNAPSHOT, weights: new Map([['tools', 0]]) };
    const candidates = [deployment('tools', ['tools']), deployment('everything', ['tools', 'vision'])];
    expect(ids(capabilityStrategy.order(candidates, { ...needing('tools'), snapshot }))).toEqual(['everything']);
  });
});
