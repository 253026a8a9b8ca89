import { describe, expect, it } from 'vitest';
import { splitJsonIntoPieces } from './json-pieces.js';

describe('splitJsonIntoPieces', () => {
  it('cuts after each comma and colon', () => {
    expect(splitJsonIntoPieces('{"city":"oslo","days":3}')).toEqual(['{"city":', '"oslo",', '"days":', '3}']);
  });

  it('returns a single piece when there is nothing to cut', () => {
    expect(splitJsonIntoPieces('{}')).toEqual(['{}']);
  });

  it('always joins back to the input', () => {
    const json = JSON.stringify({ a: [1, 2, { b: 'x:y,z' }], c: null });

    expect(splitJsonIntoPieces(json).join('')).toBe(json);
  });
});
