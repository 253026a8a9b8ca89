import { hashParts } from './hash.js';
import { createSeededRandom, type RandomSource } from './seeded-random.js';
import { WORDS } from './word-list.js';

/**
 * The seed of one answer: a pure function of the model, the prompt and the choice index, so the same request gets
 * the same text from any simulator instance, streamed or not.
 */
export function answerSeed(modelId: string, promptKey: string, choiceIndex: number): number {
  return hashParts([modelId, promptKey, choiceIndex]);
}

export function pickWord(random: RandomSource): string {
  return WORDS[Math.floor(random() * WORDS.length)] ?? 'token';
}

/** `count` tokens of one word each; every token but the first carries its leading space, as BPE tokens do. */
export function generateTextTokens(seed: number, count: number): string[] {
  const random = createSeededRandom(seed);
  const tokens: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const word = pickWord(random);
    tokens.push(index === 0 ? word : ` ${word}`);
  }
  return tokens;
}

/**
 * Wraps word tokens into `{"answer":"..."}` so that the joined tokens are valid JSON whatever the count: the opening
 * goes with the first token and the closing with the last. Words never contain characters JSON must escape.
 */
export function wrapTokensAsJsonAnswer(tokens: readonly string[]): string[] {
  if (tokens.length === 0) {
    return ['{"answer":""}'];
  }
  return tokens.map((token, index) => {
    const opened = index === 0 ? `{"answer":"${token}` : token;
    return index === tokens.length - 1 ? `${opened}"}` : opened;
  });
}
