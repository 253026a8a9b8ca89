import { describe, expect, it } from 'vitest';
import { DEFAULT_DIMENSION_WEIGHTS, DIMENSION_NAMES, lengthStrength, measureDimensions, simpleRequestFade } from './dimensions.js';
import { KEYWORD_DIMENSIONS, KEYWORDS, LANGUAGES } from './keywords.js';

describe('the dimensions', () => {
  it('each have a weight, and every keyword dimension has keywords in every language', () => {
    expect(Object.keys(DEFAULT_DIMENSION_WEIGHTS).sort()).toEqual([...DIMENSION_NAMES].sort());
    for (const dimension of KEYWORD_DIMENSIONS) {
      for (const language of LANGUAGES) expect(KEYWORDS[dimension][language].length, `${dimension}/${language}`).toBeGreaterThan(0);
    }
  });

  it('measure one match as the first-match share, and further matches closer to 1', () => {
    const one = measureDimensions('please prove it', 5).find((measure) => measure.dimension === 'reasoning');
    const two = measureDimensions('please prove the lemma', 5).find((measure) => measure.dimension === 'reasoning');
    expect(one?.strength).toBeCloseTo(0.8, 10);
    expect(two?.strength).toBeCloseTo(0.96, 10);
  });

  it('count patterns: list items up to three, and each question after the first', () => {
    const measures = measureDimensions('1. a\n2. b\n3. c\n4. d\nwhy? how? when? where?', 20);
    expect(measures.find((measure) => measure.dimension === 'multiStep')?.matches).toEqual(['list items', 'list items', 'list items']);
    expect(measures.find((measure) => measure.dimension === 'questionComplexity')?.matches).toEqual(['why', 'another question', 'another question']);
  });
});

describe('the length strength', () => {
  it('leans SIMPLE under 16 tokens, says nothing up to 64, and leans COMPLEX above', () => {
    expect(lengthStrength(0)).toBe(-1);
    expect(lengthStrength(4)).toBe(-1);
    expect(lengthStrength(8)).toBeCloseTo(-0.5, 10);
    expect(lengthStrength(16)).toBe(0);
    expect(lengthStrength(64)).toBe(0);
    expect(lengthStrength(128)).toBeCloseTo(1 / 3, 10);
    expect(lengthStrength(512)).toBe(1);
    expect(lengthStrength(50_000)).toBe(1);
  });

  it('fades simple-request markers out between 64 and 512 tokens', () => {
    expect(simpleRequestFade(lengthStrength(10))).toBe(1);
    expect(simpleRequestFade(lengthStrength(128))).toBeCloseTo(2 / 3, 10);
    expect(simpleRequestFade(lengthStrength(512))).toBe(0);
  });
});
