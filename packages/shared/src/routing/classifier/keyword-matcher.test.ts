import { describe, expect, it } from 'vitest';
import { compileKeywords, foldCode, isWordCode } from './keyword-matcher.js';

function finder(...keywords: string[]): (text: string) => string[] {
  const matcher = compileKeywords(keywords.map((keyword) => ({ keyword, tag: 'test' })));
  return (text) => matcher.find(text.toLowerCase()).map((match) => match.keyword);
}

describe('keyword matching in spaced scripts', () => {
  it('matches whole words only, at the start, middle and end of the text', () => {
    const find = finder('hi', 'prove');
    expect(find('hi')).toEqual(['hi']);
    expect(find('Hi, can you prove it')).toEqual(['hi', 'prove']);
    expect(find('this is high, unproven, and proves nothing')).toEqual([]);
    expect(find('oh, hi!')).toEqual(['hi']);
  });

  it('matches the start of longer words with stem*, and the end of compounds with *suffix', () => {
    expect(finder('analy*')('An analysis, analysed; not psychoanalysis')).toEqual(['analy']);
    expect(finder('*datenbank')('Die Kundendatenbank')).toEqual(['datenbank']);
    expect(finder('*datenbank')('datenbanken')).toEqual([]);
  });

  it('matches Cyrillic with the same word boundaries', () => {
    const find = finder('код', 'функци*');
    expect(find('Исправь код этой функции')).toEqual(['код', 'функци']);
    expect(find('кодировка')).toEqual([]);
  });
});

describe('keyword matching in Chinese and Japanese', () => {
  it('needs no word boundaries', () => {
    expect(finder('证明', '一步一步')('请思考一步一步证明根号2是无理数')).toEqual(['一步一步', '证明']);
    expect(finder('バグ')('このバグを直して')).toEqual(['バグ']);
  });

  it('treats CJK characters as boundaries for Latin keywords', () => {
    expect(finder('api', 'json')('调用API接口，用JSON格式输出')).toEqual(['api', 'json']);
  });
});

describe('folding', () => {
  it('ignores case, Latin accents and ё', () => {
    const find = finder('qué es', 'démontrer', 'всё');
    expect(find('QUE ES esto')).toEqual(['qué es']);
    expect(find('Démontrer')).toEqual(['démontrer']);
    expect(find('demontrer')).toEqual(['démontrer']);
    expect(find('ВСЕ')).toEqual(['всё']);
  });

  it('treats hyphens and runs of white space as one space', () => {
    const find = finder('step by step', 'trade off*');
    expect(find('Explain it step-by-step')).toEqual(['step by step']);
    expect(find('step\n  by\tstep')).toEqual(['step by step']);
    expect(find('the trade-offs')).toEqual(['trade off']);
  });

  it('folds full-width forms and curly apostrophes', () => {
    expect(finder('json')('ＪＳＯＮで出力')).toEqual(['json']);
    expect(finder("qu'est ce qu*")('Qu’est-ce que c’est ?')).toEqual(["qu'est ce qu"]);
    expect(foldCode('Ａ'.charCodeAt(0))).toBe('a'.charCodeAt(0));
  });

  it('knows which characters a word boundary separates', () => {
    expect(['a', 'Z', '7', '_', 'é', 'ж'].every((character) => isWordCode(foldCode(character.charCodeAt(0))))).toBe(true);
    expect([' ', ',', '-', '你', 'ア', '×'].some((character) => isWordCode(foldCode(character.charCodeAt(0))))).toBe(false);
  });
});

describe('what find returns', () => {
  it('returns each entry once, in the order first seen', () => {
    expect(finder('prove', 'then')('then prove, then prove again')).toEqual(['then', 'prove']);
  });

  it('counts two spellings of one folded keyword once per tag, and once for each tag', () => {
    const matcher = compileKeywords([
      { keyword: 'démontre', tag: 'reasoning' },
      { keyword: 'demontre*', tag: 'reasoning' },
      { keyword: 'démontre', tag: 'other' },
    ]);
    expect(matcher.find('démontre que')).toEqual([
      { keyword: 'démontre', tag: 'reasoning' },
      { keyword: 'démontre', tag: 'other' },
    ]);
  });

  it('finds overlapping keywords through the failure links', () => {
    expect(finder('*he*', '*she*', '*hers*', '*his*')('ushers').sort()).toEqual(['he', 'hers', 'she']);
    expect(finder('prove', 'prove that')('prove that x')).toEqual(['prove', 'prove that']);
  });
});

describe('compiling', () => {
  it('rejects empty keywords and keywords longer than 63 characters', () => {
    expect(() => compileKeywords([{ keyword: '*', tag: 1 }])).toThrow(RangeError);
    expect(() => compileKeywords([{ keyword: '  ', tag: 1 }])).toThrow(RangeError);
    expect(() => compileKeywords([{ keyword: 'x'.repeat(64), tag: 1 }])).toThrow(RangeError);
    expect(() => compileKeywords([{ keyword: 'x'.repeat(63), tag: 1 }])).not.toThrow();
  });
});
