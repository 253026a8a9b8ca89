import { compileKeywords, type KeywordEntry } from './keyword-matcher.js';
import { KEYWORD_DIMENSIONS, KEYWORDS, LANGUAGES, type KeywordDimension } from './keywords.js';

/** Every dimension the score is made of: the keyword dimensions, and the length of the message. */
export const DIMENSION_NAMES = [
  'reasoning',
  'code',
  'multiStep',
  'technical',
  'length',
  'creative',
  'questionComplexity',
  'agentic',
  'constraints',
  'outputFormat',
  'simpleRequest',
  'domain',
] as const;
export type DimensionName = (typeof DIMENSION_NAMES)[number];

export type DimensionWeights = Readonly<Record<DimensionName, number>>;

/**
 * What each dimension adds to the score at full strength. A dimension's strength is in [0, 1] (length: [−1, 1]),
 * so its contribution is at most its weight. With the default tier boundaries (classifier-options.ts: MEDIUM from
 * 0, COMPLEX from 0.2, REASONING from 0.4):
 *
 * - reasoning 0.7: one marker ("prove", "derive", "证明") gives 0.56, REASONING on its own unless simple-request
 *   markers pull it back; two give 0.67. A score past 0.4 without any reasoning marker stays COMPLEX (classify.ts).
 * - code 0.15: a code block with a fix request reaches MEDIUM; code alone never reaches COMPLEX.
 * - technical 0.15, multiStep 0.12, domain 0.10, questionComplexity 0.08, constraints 0.08, agentic 0.08,
 *   creative 0.08, outputFormat 0.05: the signs of a demanding request; COMPLEX needs several of them together.
 * - length 0.10: −0.10 for a word or two, 0 from 16 to 64 tokens, +0.10 from 512 tokens (a 2 KB prompt).
 * - simpleRequest −0.30: a greeting or a recall question pulls a short message well below MEDIUM.
 */
export const DEFAULT_DIMENSION_WEIGHTS: DimensionWeights = Object.freeze({
  reasoning: 0.7,
  code: 0.15,
  multiStep: 0.12,
  technical: 0.15,
  length: 0.1,
  creative: 0.08,
  questionComplexity: 0.08,
  agentic: 0.08,
  constraints: 0.08,
  outputFormat: 0.05,
  simpleRequest: -0.3,
  domain: 0.1,
});

/**
 * The strength one match gives a keyword dimension; each further match closes the same share of the remaining gap
 * to 1: strength = 1 − (1 − share)^matches. Decisive markers have a high share (one "prove" is 0.8), vocabulary a
 * low one (one technical term is 0.35, three are 0.73), so a single common word never decides a tier.
 */
export const FIRST_MATCH_SHARE: Readonly<Record<KeywordDimension, number>> = Object.freeze({
  reasoning: 0.8,
  code: 0.4,
  multiStep: 0.35,
  technical: 0.35,
  creative: 0.5,
  questionComplexity: 0.4,
  agentic: 0.5,
  constraints: 0.4,
  outputFormat: 0.5,
  simpleRequest: 0.6,
  domain: 0.5,
});

/** A structural sign that words alone miss; it counts as up to `maxCount` matches of its dimension. */
export interface DimensionPattern {
  readonly label: string;
  /** Global (`g`), run on the lower-cased text. */
  readonly regex: RegExp;
  /** Default 1. */
  readonly maxCount?: number;
  /** Occurrences passed over before counting starts. Default 0. */
  readonly skip?: number;
}

/** Units after a number that make it a limit: "under 50 ms", "at most 200 words", "300字以内". */
const LIMIT_UNITS = ['ms', 'sec', '[kmgt]b', 'rps', 'qps', 'req/s', 'words', 'characters', 'chars', 'tokens', 'lines']
  .concat(['слов', 'символов', 'wörter', 'zeichen', 'palabras', 'caracteres', 'mots', '字', '文字']);

export const DIMENSION_PATTERNS: Readonly<Partial<Record<KeywordDimension, readonly DimensionPattern[]>>> = {
  code: [
    { label: 'code block', regex: /```/g },
    { label: 'function definition', regex: /\b(?:def|func|fn|function)\s+[a-z_$][\w$]*\s*\(/g },
    { label: 'code operators', regex: /=>|!==|===|::|&&|\|\|/g },
    {
      label: 'import line',
      regex: /^[ \t]*(?:import\s+[\w{*]|from\s+[\w.]+\s+import\s|#include\s*[<"]|using\s+[a-z]\w*(?:\.\w+)*;|package\s+[a-z])/gm,
    },
    { label: 'statement line', regex: /[;{}][ \t]*$/gm },
    {
      label: 'stack trace',
      regex: /\bat\s+\S+\s+\([^)\n]*:\d+:\d+\)|traceback \(most recent call last\)|exception in thread/g,
    },
  ],
  multiStep: [
    // Numbered or bulleted items at the start of a line, including 1、 （1） ① used in Chinese and Japanese.
    {
      label: 'list items',
      regex: /^[ \t]*(?:(?:\d{1,2}[.)]|[-*•・])[ \t]+|\d{1,2}[、．]|[（(]\d{1,2}[)）]|[①-⑩])\S/gm,
      maxCount: 3,
    },
  ],
  questionComplexity: [
    // One question is any prompt; each further one (up to two more) is another thing to answer.
    { label: 'another question', regex: /[?？]/g, maxCount: 2, skip: 1 },
  ],
  constraints: [
    { label: 'complexity bound', regex: /\bo\([^()\n]{1,12}\)/g },
    {
      label: 'numeric limit',
      regex: new RegExp(`\\d[\\d,.]*\\s*(?:${LIMIT_UNITS.join('|')})(?![\\p{L}\\p{N}])`, 'gu'),
    },
  ],
  domain: [
    { label: 'math notation', regex: /\\(?:frac|int|sum|sqrt|mathbb|forall|exists|lim)\b|[∑∫∀∃√≤≥≠∈∞∂]/g },
  ],
};

/** What the text shows in one dimension. */
export interface DimensionMeasure {
  readonly dimension: DimensionName;
  /** In [0, 1], or [−1, 1] for length. */
  readonly strength: number;
  /** Keywords and pattern labels found, or the token count for length. */
  readonly matches: readonly string[];
}

/** Tagged with the dimension's index in KEYWORD_DIMENSIONS. */
const MATCHER = compileKeywords(
  KEYWORD_DIMENSIONS.flatMap((dimension, tag) =>
    LANGUAGES.flatMap((language) => {
      return KEYWORDS[dimension][language].map((keyword): KeywordEntry<number> => ({ keyword, tag }));
    }),
  ),
);

/**
 * Measures every dimension of one message. `lowerCaseText` is the message `toLowerCase()`d; `tokens` its
 * estimated size (estimate-tokens.ts), which the length dimension uses and by which simple-request markers fade.
 */
export function measureDimensions(lowerCaseText: string, tokens: number): DimensionMeasure[] {
  const found: string[][] = KEYWORD_DIMENSIONS.map(() => []);
  for (const match of MATCHER.find(lowerCaseText)) found[match.tag]?.push(match.keyword);
  KEYWORD_DIMENSIONS.forEach((dimension, tag) => {
    const matches = found[tag] as string[];
    for (const pattern of DIMENSION_PATTERNS[dimension] ?? []) {
      const count = countMatches(pattern, lowerCaseText);
      for (let index = 0; index < count; index += 1) matches.push(pattern.label);
    }
  });
  const length = lengthStrength(tokens);
  return DIMENSION_NAMES.map((dimension): DimensionMeasure => {
    if (dimension === 'length') return { dimension, strength: length, matches: [`~${Math.round(tokens)} tokens`] };
    const matches = found[KEYWORD_DIMENSIONS.indexOf(dimension)] as string[];
    let strength = matches.length === 0 ? 0 : 1 - (1 - FIRST_MATCH_SHARE[dimension]) ** matches.length;
    if (dimension === 'simpleRequest') strength *= simpleRequestFade(length);
    return { dimension, strength, matches };
  });
}

/**
 * Length as a strength in [−1, 1]. Under 16 tokens a message leans SIMPLE: log2(tokens / 16) / 2, so 8 tokens is
 * −0.5 and 4 or fewer −1 (greetings, one-line questions). From 16 to 64 tokens length says nothing (0). Over 64 it
 * leans COMPLEX: log2(tokens / 64) / 3, so 128 tokens is 0.33 and 512 or more (a 2 KB prompt) +1. Logarithmic
 * because the difference between 10 and 100 tokens says more than between 1,000 and 1,090.
 */
export function lengthStrength(tokens: number): number {
  if (!(tokens > 0)) return -1;
  if (tokens < 16) return Math.max(-1, Math.log2(tokens / 16) / 2);
  if (tokens <= 64) return 0;
  return Math.min(1, Math.log2(tokens / 64) / 3);
}

/**
 * Simple-request markers count in full up to 64 tokens and not at all from 512: "Hi! Could you design…" followed
 * by a page of requirements is not a greeting.
 */
export function simpleRequestFade(lengthStrengthValue: number): number {
  return Math.min(1, Math.max(0, 1 - lengthStrengthValue));
}

function countMatches(pattern: DimensionPattern, text: string): number {
  const wanted = (pattern.maxCount ?? 1) + (pattern.skip ?? 0);
  const { regex } = pattern;
  regex.lastIndex = 0;
  let count = 0;
  while (count < wanted && regex.exec(text) !== null) count += 1;
  regex.lastIndex = 0;
  return Math.max(0, count - (pattern.skip ?? 0));
}
