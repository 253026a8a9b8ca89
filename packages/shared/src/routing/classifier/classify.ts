import { createClassifierSettings, type ClassifierOptions, type ClassifierSettings } from './classifier-options.js';
import { measureDimensions, type DimensionName } from './dimensions.js';
import { offersTools, readPrompt, wantsStructuredOutput, type ClassifierInput } from './request-text.js';
import { tierRank, type Tier } from './tiers.js';

/** One dimension's part in the score, for the explain endpoint. */
export interface ClassificationSignal {
  readonly dimension: DimensionName;
  /** Weight × strength: what this dimension added to (or, for simple requests and short messages, took from) it. */
  readonly score: number;
  /** The keywords and patterns found, or the message size for length. */
  readonly matches: readonly string[];
}

export interface Classification {
  readonly tier: Tier;
  /** How far inside its tier's band the score is, in [0.5, 1) (classifier-options.ts); it ignores the floors. */
  readonly confidence: number;
  /** The weighted sum of the dimensions of the last user message. */
  readonly score: number;
  /** Tools are offered: the profile's agentic lists apply (profiles.ts). */
  readonly agentic: boolean;
  /** The whole prompt, every message (estimate-tokens.ts). */
  readonly estimatedPromptTokens: number;
  /** Dimensions that moved the score, largest effect first. */
  readonly signals: readonly ClassificationSignal[];
  /** How the tier was reached, in order, as short sentences. */
  readonly reasons: readonly string[];
}

/**
 * Classifies a chat completion request for the virtual models (`auto`, `eco`, `premium`): scores the last user
 * message on weighted dimensions (dimensions.ts), maps the score to a tier, falls back to the default tier when the
 * score is too close to a boundary, then applies the floors: a very large prompt is at least COMPLEX, a JSON
 * `response_format` at least MEDIUM. REASONING also needs at least one reasoning marker: a long technical prompt
 * that asks for no proof or derivation stays COMPLEX, because reasoning models are the slowest and dearest.
 *
 * Pure and deterministic: no clock, no randomness, no network. A body of any other shape classifies as an empty
 * message rather than throwing. Throws only for out-of-range `options` (a RangeError naming the setting). On the
 * request path, pass settings made once by `createClassifierSettings`: they are not merged and checked again.
 */
export function classifyRequest(input: ClassifierInput, options?: ClassifierOptions): Classification {
  const settings = createClassifierSettings(options);
  const reasons: string[] = [];
  const { lastUserText: text, lastUserTokens, promptTokens: estimatedPromptTokens } = readPrompt(input);
  const scored = scoredText(text, settings.maxScoredCharacters);
  if (text.length > settings.maxScoredCharacters) {
    const half = formatCount(Math.floor(settings.maxScoredCharacters / 2));
    reasons.push(`long message: scored its first and last ${half} of ${formatCount(text.length)} characters`);
  }
  const measures = measureDimensions(scored.toLowerCase(), lastUserTokens);
  let score = 0;
  const signals: ClassificationSignal[] = [];
  let reasoningMarkers = false;
  for (const { dimension, strength, matches } of measures) {
    if (strength === 0) continue;
    const contribution = settings.weights[dimension] * strength;
    score += contribution;
    if (dimension === 'reasoning') reasoningMarkers = true;
    if (contribution !== 0) signals.push({ dimension, score: round(contribution), matches });
  }
  signals.sort((first, second) => Math.abs(second.score) - Math.abs(first.score));

  let band = bandOf(score, settings);
  if (band.tier === 'REASONING' && !reasoningMarkers) {
    band = { tier: 'COMPLEX', lower: settings.boundaries.complex, upper: Number.POSITIVE_INFINITY };
    reasons.push('no reasoning markers ⇒ at most COMPLEX');
  }
  const distance = Math.min(score - band.lower, band.upper - score);
  const confidence = 1 / (1 + Math.exp(-settings.confidenceSteepness * distance));
  let tier = band.tier;
  if (confidence < settings.confidenceThreshold) {
    tier = settings.defaultTier;
    reasons.push(`confidence ${confidence.toFixed(2)} < ${settings.confidenceThreshold}: default tier ${tier}`);
  } else {
    reasons.push(`score ${score.toFixed(2)} ⇒ ${tier} (confidence ${confidence.toFixed(2)})`);
  }

  if (wantsStructuredOutput(input) && tierRank(tier) < tierRank('MEDIUM')) {
    tier = 'MEDIUM';
    reasons.push('structured output ⇒ at least MEDIUM');
  }
  if (estimatedPromptTokens >= settings.largeInputTokens && tierRank(tier) < tierRank('COMPLEX')) {
    tier = 'COMPLEX';
    reasons.push(`large input (~${formatCount(estimatedPromptTokens)} tokens) ⇒ at least COMPLEX`);
  }
  const agentic = offersTools(input);
  if (agentic) reasons.push('tools offered ⇒ agentic model lists');
  return { tier, confidence: round(confidence), score: round(score), agentic, estimatedPromptTokens, signals, reasons };
}

interface Band {
  readonly tier: Tier;
  readonly lower: number;
  readonly upper: number;
}

function bandOf(score: number, { boundaries }: ClassifierSettings): Band {
  if (score < boundaries.medium) return { tier: 'SIMPLE', lower: Number.NEGATIVE_INFINITY, upper: boundaries.medium };
  if (score < boundaries.complex) return { tier: 'MEDIUM', lower: boundaries.medium, upper: boundaries.complex };
  if (score < boundaries.reasoning) return { tier: 'COMPLEX', lower: boundaries.complex, upper: boundaries.reasoning };
  return { tier: 'REASONING', lower: boundaries.reasoning, upper: Number.POSITIVE_INFINITY };
}

/** The text as is, or its first and last halves of `maxCharacters` joined by a newline. */
function scoredText(text: string, maxCharacters: number): string {
  if (text.length <= maxCharacters) return text;
  const half = Math.floor(maxCharacters / 2);
  return `${text.slice(0, half)}\n${text.slice(text.length - half)}`;
}

/** Reported numbers are rounded to 4 decimals, for a readable explain output; tiers are decided unrounded. */
function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}
