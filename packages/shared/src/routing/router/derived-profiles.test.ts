import { describe, expect, it } from 'vitest';
import type { ModelGroup } from '../../catalog/catalog.js';
import { routingSchema } from '../../config/routing-schema.js';
import type { Capability } from '../../config/schema.js';
import { testDeployment } from '../../test-support/deployments.js';
import { resolveProfiles } from './derived-profiles.js';

/** A model with one deployment per price (input + output per million tokens, all on input here). */
function model(name: string, prices: number | number[], capabilities: Capability[] = ['streaming']): ModelGroup {
  const deployments = [prices].flat().map((price, index) =>
    testDeployment(`backend-${index}/${name}`, { model: name, pricing: { inputPerMTok: price, outputPerMTok: 0 }, capabilities: new Set(capabilities) }),
  );
  return { name, deployments };
}

/** From cheapest to dearest: tiny 0.1, small 0.5 (tools), mid 2, reasoner 5 (reasoning, tools), large 15 (tools). */
const MODELS = [
  model('large', 15, ['streaming', 'tools']),
  model('tiny', 0.1),
  model('reasoner', 5, ['streaming', 'reasoning', 'tools']),
  model('small', 0.5, ['streaming', 'tools']),
  model('mid', 2),
  model('embedder', 0.01, ['embeddings']),
];
const CHEAPEST_FIRST = ['tiny', 'small', 'mid', 'reasoner', 'large'];
const DEAREST_FIRST = [...CHEAPEST_FIRST].reverse();

const derived = (configured: Record<string, unknown> = {}) => resolveProfiles(MODELS, routingSchema.parse({ profiles: configured }).profiles);

describe('resolveProfiles, deriving from prices', () => {
  const profiles = derived();

  it('orders every eco tier cheapest first, REASONING with reasoning models first', () => {
    expect(profiles.eco.tiers.SIMPLE).toEqual(CHEAPEST_FIRST);
    expect(profiles.eco.tiers.MEDIUM).toEqual(CHEAPEST_FIRST);
    expect(profiles.eco.tiers.COMPLEX).toEqual(CHEAPEST_FIRST);
    expect(profiles.eco.tiers.REASONING).toEqual(['reasoner', 'tiny', 'small', 'mid', 'large']);
  });

  it('orders every premium tier dearest first, REASONING with reasoning models first', () => {
    expect(profiles.premium.tiers.SIMPLE).toEqual(DEAREST_FIRST);
    expect(profiles.premium.tiers.COMPLEX).toEqual(DEAREST_FIRST);
    expect(profiles.premium.tiers.REASONING).toEqual(['reasoner', 'large', 'mid', 'small', 'tiny']);
  });

  it('orders auto\'s SIMPLE and MEDIUM cheapest first and COMPLEX and REASONING dearest first', () => {
    expect(profiles.auto.tiers).toEqual({
      SIMPLE: CHEAPEST_FIRST,
      MEDIUM: CHEAPEST_FIRST,
      COMPLEX: DEAREST_FIRST,
      REASONING: ['reasoner', 'large', 'mid', 'small', 'tiny'],
    });
  });

  it('keeps only models with tools in the agentic lists, in the tier\'s price order', () => {
    expect(profiles.auto.agenticTiers).toEqual({
      SIMPLE: ['small', 'reasoner', 'large'],
      MEDIUM: ['small', 'reasoner', 'large'],
      COMPLEX: ['large', 'reasoner', 'small'],
      REASONING: ['reasoner', 'large', 'small'],
    });
    expect(profiles.eco.agenticTiers?.SIMPLE).toEqual(['small', 'reasoner', 'large']);
  });

  it('never lists an embedding model', () => {
    for (const profile of Object.values(profiles)) {
      for (const list of [...Object.values(profile.tiers), ...Object.values(profile.agenticTiers ?? {})]) expect(list).not.toContain('embedder');
    }
  });

  it('prices a model by its cheapest deployment', () => {
    const [first] = resolveProfiles([model('one-cheap-deployment', [20, 0.2]), model('flat', 1)], {}).eco.tiers.SIMPLE;
    expect(first).toBe('one-cheap-deployment');
  });

  it('breaks price ties by name', () => {
    expect(resolveProfiles([model('beta', 1), model('alpha', 1)], {}).eco.tiers.SIMPLE).toEqual(['alpha', 'beta']);
  });

  it('leaves out agentic lists when no model has tools, so the tier lists apply', () => {
    expect(resolveProfiles([model('plain', 1)], {}).auto.agenticTiers).toEqual({});
  });
});

describe('resolveProfiles with configured tiers', () => {
  it('replaces a configured tier and keeps deriving the others', () => {
    const profiles = derived({ eco: { tiers: { SIMPLE: ['mid', 'tiny'] } } });
    expect(profiles.eco.tiers.SIMPLE).toEqual(['mid', 'tiny']);
    expect(profiles.eco.tiers.MEDIUM).toEqual(CHEAPEST_FIRST);
    expect(profiles.auto.tiers.SIMPLE).toEqual(CHEAPEST_FIRST);
  });

  it('derives no agentic list for a configured tier, so its own list applies to tool requests too', () => {
    const profiles = derived({ eco: { tiers: { SIMPLE: ['mid', 'tiny'] } } });
    expect(profiles.eco.agenticTiers?.SIMPLE).toBeUndefined();
    expect(profiles.eco.agenticTiers?.MEDIUM).toEqual(['small', 'reasoner', 'large']);
  });

  it('uses a configured agentic list as it is', () => {
    const profiles = derived({ premium: { tiers: { COMPLEX: ['large'] }, agenticTiers: { COMPLEX: ['reasoner', 'small'] } } });
    expect(profiles.premium.agenticTiers?.COMPLEX).toEqual(['reasoner', 'small']);
    expect(profiles.premium.tiers.COMPLEX).toEqual(['large']);
  });
});
