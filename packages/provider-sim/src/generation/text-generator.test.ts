import { describe, expect, it } from 'vitest';
import { answerSeed, generateTextTokens, wrapTokensAsJsonAnswer } from './text-generator.js';
import { WORDS } from './word-list.js';

describe('generateTextTokens', () => {
  it('returns the same tokens for the same seed', () => {
    expect(generateTextTokens(7, 20)).toEqual(generateTextTokens(7, 20));
  });

  it('returns different tokens for different seeds', () => {
    expect(generateTextTokens(7, 20)).not.toEqual(generateTextTokens(8, 20));
  });

  it('gives every token but the first a leading space, one listed word each', () => {
    const tokens = generateTextTokens(3, 10);

    expect(tokens[0]).not.toMatch(/^ /);
    expect(tokens.slice(1).every((token) => token.startsWith(' '))).toBe(true);
    expect(tokens.every((token) => WORDS.includes(token.trim()))).toBe(true);
  });

  it('makes a shorter answer a prefix of a longer one', () => {
    expect(generateTextTokens(5, 16).slice(0, 4)).toEqual(generateTextTokens(5, 4));
  });
});

describe('answerSeed', () => {
  it('depends on the model, the prompt and the choice index', () => {
    const seed = answerSeed('sim-fast', 'user hi', 0);

    expect(answerSeed('sim-fast', 'user hi', 0)).toBe(seed);
    expect(answerSeed('sim-other', 'user hi', 0)).not.toBe(seed);
    expect(answerSeed('sim-fast', 'user ho', 0)).not.toBe(seed);
    expect(answerSeed('sim-fast', 'user hi', 1)).not.toBe(seed);
  });
});

describe('wrapTokensAsJsonAnswer', () => {
  it('keeps the joined tokens valid JSON for any count', () => {
    for (const count of [0, 1, 2, 9]) {
      const joined = wrapTokensAsJsonAnswer(generateTextTokens(1, count)).join('');

      expect(JSON.parse(joined)).toEqual({ answer: generateTextTokens(1, count).join('') });
    }
  });
});
