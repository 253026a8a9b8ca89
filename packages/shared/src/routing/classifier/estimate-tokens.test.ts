import { describe, expect, it } from 'vitest';
import { estimateTokens } from './estimate-tokens.js';

describe('the token estimate', () => {
  it('counts 4 ASCII characters as a token', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('abcd'.repeat(100))).toBe(100);
    expect(estimateTokens('hi')).toBe(1);
  });

  it('counts each CJK ideograph, kana or Hangul syllable as a token', () => {
    expect(estimateTokens('你好世界')).toBe(4);
    expect(estimateTokens('こんにちは')).toBe(5);
    expect(estimateTokens('안녕하세요')).toBe(5);
  });

  it('counts 2 other non-ASCII characters as a token, and a surrogate pair as one character', () => {
    expect(estimateTokens('приветмир')).toBe(5);
    expect(estimateTokens('🙂🙂')).toBe(1);
  });
});
