import type { Tier } from './tiers.js';

/** The virtual model names a client asks for instead of a real model. */
export const VIRTUAL_MODELS = ['auto', 'eco', 'premium'] as const;

/**
 * - auto: balanced; the tier decides.
 * - eco: leans to cost: each tier's list starts with cheaper models than auto's.
 * - premium: leans to quality: each tier's list starts with stronger models than auto's.
 */
export type VirtualModel = (typeof VIRTUAL_MODELS)[number];

/**
 * One virtual model's routing: for each tier, the models to try in order. The first is preferred; the rest are the
 * fallback order when it fails or is unavailable. `agenticTiers` holds lists for requests that offer tools, where
 * a model must call tools reliably; a tier missing there uses its `tiers` list.
 *
 * Configuration (wired elsewhere) supplies the lists; there is no built-in default, because model names depend on
 * the deployments configured. The shape, for `eco`:
 *
 *   tiers:
 *     SIMPLE:    [small-fast, small-alt]
 *     MEDIUM:    [small-fast, mid]
 *     COMPLEX:   [mid, large]
 *     REASONING: [mid-reasoning, large-reasoning]
 *   agenticTiers:
 *     SIMPLE:    [mid-tools]
 *     MEDIUM:    [mid-tools, large-tools]
 */
export interface TierProfile {
  readonly tiers: Readonly<Record<Tier, readonly string[]>>;
  readonly agenticTiers?: Readonly<Partial<Record<Tier, readonly string[]>>>;
}

export type TierProfiles = Readonly<Record<VirtualModel, TierProfile>>;

export function isVirtualModel(model: unknown): model is VirtualModel {
  return typeof model === 'string' && (VIRTUAL_MODELS as readonly string[]).includes(model);
}

/**
 * The ordered models for a tier: the agentic list when `agentic` and the profile has a non-empty one for this tier,
 * otherwise the tier's list. An empty agentic list counts as missing, so an override left empty in configuration
 * never leaves a request with nowhere to go. Returns a new array; the profile is not changed.
 */
export function modelsForTier(profile: TierProfile, tier: Tier, agentic: boolean): string[] {
  const agenticModels = agentic ? profile.agenticTiers?.[tier] : undefined;
  if (agenticModels !== undefined && agenticModels.length > 0) return [...agenticModels];
  return [...(profile.tiers[tier] ?? [])];
}
