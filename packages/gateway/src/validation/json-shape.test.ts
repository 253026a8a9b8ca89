import { describe, expect, it } from 'vitest';
import { JsonShapeScanner, exceededJsonShapeLimit, type JsonShapeLimits } from './json-shape.js';

const limits: JsonShapeLimits = { maxDepth: 4, maxObjectKeys: 3, maxArrayElements: 5, maxValues: 20, maxKeys: 8, maxDistinctKeys: 4 };
const scan = (text: string, overrides: Partial<JsonShapeLimits> = {}) => exceededJsonShapeLimit(Buffer.from(text), { ...limits, ...overrides });

describe('exceededJsonShapeLimit', () => {
  it('passes a body within every limit', () => {
    expect(scan('{"model":"m","messages":[{"role":"user","content":"hi"}]}')).toBeUndefined();
    expect(scan('{}')).toBeUndefined();
    expect(scan('[[[[]]]]')).toBeUndefined();
  });

  it('finds nesting one level past the limit', () => {
    expect(scan('[[[[[]]]]]')).toBe('maxDepth');
    expect(scan('{"a":{"b":{"c":{"d":{}}}}}')).toBe('maxDepth');
    expect(scan('{"a":{"b":{"c":{"d":1}}}}')).toBeUndefined();
  });

  it('counts the keys of each object on its own', () => {
    expect(scan('{"a":1,"b":2,"c":3}')).toBeUndefined();
    expect(scan('{"a":1,"b":2,"c":3,"d":4}')).toBe('maxObjectKeys');
    expect(scan('{"a":{"x":1,"y":2,"z":3},"b":{"x":1,"y":2,"z":3},"c":[1,2,3,4,5]}', { maxKeys: 9, maxDistinctKeys: 6 })).toBeUndefined();
  });

  it('counts the elements of each array on its own', () => {
    expect(scan('[1,2,3,4,5]')).toBeUndefined();
    expect(scan('[1,2,3,4,5,6]')).toBe('maxArrayElements');
    expect(scan('{"a":[1,2,3],"b":[1,2,3,4,5,6]}')).toBe('maxArrayElements');
  });

  it('counts values over the whole body: every element and member at every level', () => {
    expect(scan('[[1,2,3,4,5],[1,2,3,4,5],[1,2,3,4,5],[1]]')).toBeUndefined();
    expect(scan('[[1,2,3,4,5],[1,2,3,4,5],[1,2,3,4,5],[1,2]]')).toBe('maxValues');
    expect(scan('[[1,2,3,4,5],[1,2,3,4,5],[1,2,3,4,5],[1,2,3,4,5]]')).toBe('maxValues');
  });

  it('counts keys over the whole body, repeated names included', () => {
    expect(scan('[{"a":1,"b":2},{"a":1,"b":2},{"a":1,"b":2},{"a":1,"b":2}]')).toBeUndefined();
    expect(scan('[{"a":1,"b":2},{"a":1,"b":2},{"a":1,"b":2},{"a":1,"b":2},{"a":1}]')).toBe('maxKeys');
  });

  it('counts distinct key names over the whole body, not repeated ones nor string values', () => {
    expect(scan('[{"a":1,"b":2},{"a":1,"b":2},{"c":"d","d":"e"}]')).toBeUndefined();
    expect(scan('[{"a":1,"b":2},{"c":3},{"d":"x","e":"y"}]')).toBe('maxDistinctKeys');
    expect(scan('{"a":["b","c","d","e","f"]}')).toBeUndefined();
    expect(scan('{"a":{"b":{"c":{"d":{}}}}}', { maxDepth: 10 })).toBeUndefined();
    expect(scan('{"a":{"b":{"c":{"d":{"e":1}}}}}', { maxDepth: 10 })).toBe('maxDistinctKeys');
  });

  it('ignores brackets and commas inside strings, escaped quotes included', () => {
    expect(scan('{"a":"[[[[[[,,,,,,,{{{{"}')).toBeUndefined();
    expect(scan('{"a":"say \\"[[[[[[\\" twice","b":"\\\\"}')).toBeUndefined();
    // The string ends at the quote after an even run of backslashes: the brackets after it count.
    expect(scan('["\\\\",[[[[]]]]]')).toBe('maxDepth');
    expect(scan('["\\\\\\"[[[[[["]')).toBeUndefined();
  });

  it('reads multi-byte UTF-8 inside strings as string content', () => {
    expect(scan('{"a":"日本語, [ { emoji 😀 ]","b":1}')).toBeUndefined();
  });

  it('stops at the first limit of a 20,000-deep body without going through it all', () => {
    const body = `{"model":"m","x":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    expect(exceededJsonShapeLimit(Buffer.from(body), { maxDepth: 64, maxObjectKeys: 1_000, maxArrayElements: 100_000, maxValues: 500_000, maxKeys: 100_000, maxDistinctKeys: 10_000 })).toBe('maxDepth');
  });

  it('finds the same limit whatever the chunks the body arrives in', () => {
    const texts = [
      '{"a":"say \\"[[[[[[\\" twice","b":"\\\\","c":[1,2]}',
      '["\\\\",[[[[]]]]]',
      '["\\\\\\"[[[[[["]',
      '[{"a":1,"b":2},{"c":3},{"d":"x","e":"y"}]',
      '[{"ab":1},{"a":1,"b":1},{"ba":1}]',
      '{"a":1,"b":2,"c":3,"d":4}',
      '{"a":"日本語, [ { 😀 ]","b":[1,2,3,4,5,6]}',
    ];
    for (const text of texts) {
      const bytes = Buffer.from(text);
      const whole = exceededJsonShapeLimit(bytes, limits);
      for (let split = 1; split < bytes.length; split += 1) {
        for (let second = split; second < bytes.length; second += 3) {
          const scanner = new JsonShapeScanner(limits);
          const found = scanner.write(bytes.subarray(0, split)) ?? scanner.write(bytes.subarray(split, second)) ?? scanner.write(bytes.subarray(second));
          expect(found, `${text} split at ${split} and ${second}`).toBe(whole);
        }
      }
    }
  });

  it('leaves malformed JSON to the parser', () => {
    expect(scan('{"a":')).toBeUndefined();
    expect(scan(']]]]]]')).toBeUndefined();
    expect(scan('"unterminated')).toBeUndefined();
  });
});
