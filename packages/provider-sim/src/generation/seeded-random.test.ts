import { describe, expect, it } from 'vitest';
import { fnv1a, hashParts } from './hash.js';
import { createSeededRandom, randomAlphanumeric, randomInteger } from './seeded-random.js';

describe('createSeededRandom', () => {
  it('repeats its sequence for the same seed and stays in [0, 1)', () => {
    const first = createSeededRandom(123);
    const second = createSeededRandom(123);
    const draws = Array.from({ length: 1000 }, () => first());

    expect(Array.from({ length: 1000 }, () => second())).toEqual(draws);
    expect(draws.every((draw) => draw >= 0 && draw < 1)).toBe(true);
  });

  it('draws integers within the bounds and ids from the alphanumeric set', () => {
    const random = createSeededRandom(5);
    const integers = Array.from({ length: 500 }, () => randomInteger(random, 1, 3));

    expect(new Set(integers)).toEqual(new Set([1, 2, 3]));
    expect(randomAlphanumeric(random, 24)).toMatch(/^[A-Za-z0-9]{24}$/);
  });
});

describe('fnv1a', () => {
  it('matches the published FNV-1a test vectors', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
  });
});

describe('hashParts', () => {
  it('tells apart parts that concatenate to the same text', () => {
    expect(hashParts(['ab', 'c'])).not.toBe(hashParts(['a', 'bc']));
  });
});
