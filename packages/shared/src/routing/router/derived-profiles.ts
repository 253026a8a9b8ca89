import type { ModelGroup } from '../../catalog/catalog.js';
import type { TierProfileConfig } from '../../config/routing-schema.js';
import type { TierProfile, TierProfiles, VirtualModel } from '../classifier/profiles.js';
import { TIERS, type Tier } from '../classifier/tiers.js';

/** A model's price for ordering: its cheapest deployment's input plus output price per million tokens. */
function blendedPrice(group: ModelGroup): number {
  return Math.min(...group.deployments.map((deployment) => deployment.pricing.inputPerMTok + deployment.pricing.outputPerMTok));
}

function hasCapability(group: ModelGroup, capability: string): boolean {
  return group.deployments.some((deployment) => deployment.capabilities.has(capability as never));
}

/** Which way each profile orders each tier by price: cheapest first (`up`) or dearest first (`down`). */
const DIRECTIONS: Record<VirtualModel, Record<Tier, 'up' | 'down'>> = {
  eco: { SIMPLE: 'up', MEDIUM: 'up', COMPLEX: 'up', REASONING: 'up' },
  auto: { SIMPLE: 'up', MEDIUM: 'up', COMPLEX: 'down', REASONING: 'down' },
  premium: { SIMPLE: 'down', MEDIUM: 'down', COMPLEX: 'down', REASONING: 'down' },
};

/**
 * The tier profiles, with what config leaves out derived from the catalog, price standing in for strength:
 * - eco: every tier cheapest first; premium: every tier dearest first; auto: SIMPLE and MEDIUM cheapest first,
 *   COMPLEX and REASONING dearest first.
 * - REASONING puts models with the `reasoning` capability first, in the same price order.
 * - The agentic lists hold only models with `tools`.
 * Embedding models are never part of a profile. Every list holds every eligible model, so the rest of the list
 * is the fallback order. A tier or profile set in config replaces the derived one.
 */
export function resolveProfiles(models: readonly ModelGroup[], configured: Partial<Record<VirtualModel, TierProfileConfig>>): TierProfiles {
  const chatModels = models.filter((group) => !hasCapability(group, 'embeddings'));
  const byPrice = [...chatModels].sort((left, right) => blendedPrice(left) - blendedPrice(right) || left.name.localeCompare(right.name));
  const listFor = (virtual: VirtualModel, tier: Tier, agentic: boolean): string[] => {
    let ordered = DIRECTIONS[virtual][tier] === 'up' ? byPrice : [...byPrice].reverse();
    if (agentic) ordered = ordered.filter((group) => hasCapability(group, 'tools'));
    if (tier === 'REASONING') {
      ordered = [...ordered.filter((group) => hasCapability(group, 'reasoning')), ...ordered.filter((group) => !hasCapability(group, 'reasoning'))];
    }
    return ordered.map((group) => group.name);
  };
  const profile = (virtual: VirtualModel): TierProfile => {
    const own = configured[virtual];
    const tiers = {} as Record<Tier, string[]>;
    const agenticTiers: Partial<Record<Tier, string[]>> = {};
    for (const tier of TIERS) {
      tiers[tier] = own?.tiers[tier] ?? listFor(virtual, tier, false);
      const agentic = own?.agenticTiers[tier] ?? (own?.tiers[tier] ? undefined : listFor(virtual, tier, true));
      if (agentic && agentic.length > 0) agenticTiers[tier] = agentic;
    }
    return { tiers, agenticTiers };
  };
  return { auto: profile('auto'), eco: profile('eco'), premium: profile('premium') };
}
