/**
 * The classifier's tiers, from the cheapest prompts to the hardest. The order matters: floors ("at least
 * COMPLEX") and the reasoning cap compare positions in this list.
 */
export const TIERS = ['SIMPLE', 'MEDIUM', 'COMPLEX', 'REASONING'] as const;

/**
 * - SIMPLE: greetings, acknowledgements, short factual questions; the cheapest model answers as well as any.
 * - MEDIUM: ordinary work — explanations, small code changes, rewriting, structured output.
 * - COMPLEX: multi-part, technical or long requests: system design, large code, many constraints.
 * - REASONING: requests that ask for a proof, a derivation or explicit step-by-step reasoning.
 */
export type Tier = (typeof TIERS)[number];

export function isTier(value: unknown): value is Tier {
  return typeof value === 'string' && (TIERS as readonly string[]).includes(value);
}

/** Position of a tier in `TIERS`: SIMPLE is 0, REASONING is 3. */
export function tierRank(tier: Tier): number {
  return TIERS.indexOf(tier);
}
