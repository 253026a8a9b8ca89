import { DEFAULT_DIMENSION_WEIGHTS, DIMENSION_NAMES, type DimensionWeights } from './dimensions.js';
import { isTier, type Tier } from './tiers.js';

/** The scores at which each tier starts; below `medium` is SIMPLE. */
export interface TierBoundaries {
  readonly medium: number;
  readonly complex: number;
  readonly reasoning: number;
}

/** Every setting of the classifier, resolved. Each field states its default and what that default does. */
export interface ClassifierSettings {
  /**
   * Default MEDIUM from 0, COMPLEX from 0.2, REASONING from 0.4. At 0 a prompt with no signal either way (about 64
   * tokens, no keywords) sits on the SIMPLE/MEDIUM edge, so its confidence is low and `defaultTier` decides.
   */
  readonly boundaries: TierBoundaries;
  /** Per-dimension weights; default `DEFAULT_DIMENSION_WEIGHTS` (dimensions.ts). */
  readonly weights: DimensionWeights;
  /**
   * Confidence is the logistic function of the score's distance to the nearest edge of its tier's band, times this
   * steepness: 0.5 on an edge, rising towards 1 inside the band. Default 10: 0.1 inside → 0.73, 0.2 → 0.88.
   */
  readonly confidenceSteepness: number;
  /**
   * Below this confidence the score's tier is not trusted and `defaultTier` applies. Default 0.55: with steepness 10,
   * scores within 0.02 of a tier boundary.
   */
  readonly confidenceThreshold: number;
  /** The tier used when the score is too close to a boundary to tell. Default MEDIUM, the safe middle. */
  readonly defaultTier: Tier;
  /**
   * A whole prompt (every message, estimate-tokens.ts) of at least this many tokens is at least COMPLEX, whatever
   * its last message says: small models lose track of long contexts. Default 20,000.
   */
  readonly largeInputTokens: number;
  /**
   * The last user message is scored on at most this many characters: its first and last halves when longer, where
   * the instruction around a pasted document usually is. Bounds the time a huge message costs. Default 16,000.
   */
  readonly maxScoredCharacters: number;
}

/** Overrides of the defaults; `boundaries` and `weights` may be partial. */
export interface ClassifierOptions {
  readonly boundaries?: Partial<TierBoundaries>;
  readonly weights?: Partial<DimensionWeights>;
  readonly confidenceSteepness?: number;
  readonly confidenceThreshold?: number;
  readonly defaultTier?: Tier;
  readonly largeInputTokens?: number;
  readonly maxScoredCharacters?: number;
}

export const DEFAULT_CLASSIFIER_SETTINGS: ClassifierSettings = Object.freeze({
  boundaries: Object.freeze({ medium: 0, complex: 0.2, reasoning: 0.4 }),
  weights: DEFAULT_DIMENSION_WEIGHTS,
  confidenceSteepness: 10,
  confidenceThreshold: 0.55,
  defaultTier: 'MEDIUM',
  largeInputTokens: 20_000,
  maxScoredCharacters: 16_000,
});

/** Settings already validated, by identity: passing them again skips the merge and the checks. */
const VALIDATED = new WeakSet<ClassifierSettings>([DEFAULT_CLASSIFIER_SETTINGS]);

/**
 * The defaults with `options` applied. Throws a RangeError naming the first setting out of range. Settings this
 * function returned are returned as they are, so a caller can resolve its configuration once at start and pass the
 * result on every request for free.
 */
export function createClassifierSettings(options: ClassifierOptions = DEFAULT_CLASSIFIER_SETTINGS): ClassifierSettings {
  // A ClassifierSettings is also a ClassifierOptions: every field given.
  if (VALIDATED.has(options as ClassifierSettings)) return options as ClassifierSettings;
  const settings: ClassifierSettings = Object.freeze({
    ...DEFAULT_CLASSIFIER_SETTINGS,
    ...withoutUndefined(options),
    boundaries: Object.freeze({ ...DEFAULT_CLASSIFIER_SETTINGS.boundaries, ...withoutUndefined(options.boundaries) }),
    weights: Object.freeze({ ...DEFAULT_CLASSIFIER_SETTINGS.weights, ...withoutUndefined(options.weights) }),
  });
  const problem = classifierSettingsProblem(settings);
  if (problem !== undefined) throw new RangeError(`classifier settings: ${problem}`);
  VALIDATED.add(settings);
  return settings;
}

/** The first setting out of range, in words, or undefined when the settings are usable. */
export function classifierSettingsProblem(settings: ClassifierSettings): string | undefined {
  const { boundaries, weights, confidenceSteepness, confidenceThreshold, defaultTier } = settings;
  const { largeInputTokens, maxScoredCharacters } = settings;
  const { medium, complex, reasoning } = boundaries;
  const checks: [setting: string, valid: boolean, expected: string, value: unknown][] = [
    ['boundaries.medium', Number.isFinite(medium), 'a finite number', medium],
    ['boundaries.complex', complex > medium && Number.isFinite(complex), 'above boundaries.medium', complex],
    ['boundaries.reasoning', reasoning > complex && Number.isFinite(reasoning), 'above boundaries.complex', reasoning],
    ...DIMENSION_NAMES.map((name): [string, boolean, string, unknown] => {
      return [`weights.${name}`, Number.isFinite(weights[name]), 'a finite number', weights[name]];
    }),
    ['confidenceSteepness', confidenceSteepness > 0 && Number.isFinite(confidenceSteepness), 'positive', confidenceSteepness],
    ['confidenceThreshold', confidenceThreshold >= 0 && confidenceThreshold <= 1, 'in [0, 1]', confidenceThreshold],
    ['defaultTier', isTier(defaultTier), 'SIMPLE, MEDIUM, COMPLEX or REASONING', defaultTier],
    ['largeInputTokens', largeInputTokens > 0, 'a positive number', largeInputTokens],
    ['maxScoredCharacters', Number.isSafeInteger(maxScoredCharacters) && maxScoredCharacters >= 2, 'an integer ≥ 2', maxScoredCharacters],
  ];
  for (const [setting, valid, expected, value] of checks) {
    // NaN fails every comparison above, so it is reported here too.
    if (!valid) return `${setting} must be ${expected}, got ${String(value)}`;
  }
  return undefined;
}

/** An override given as `undefined` keeps the default rather than erasing it. */
function withoutUndefined<T extends object>(value: T | undefined): Partial<T> {
  if (value === undefined) return {};
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
