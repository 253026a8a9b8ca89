import { describe, expect, it } from 'vitest';
import { interpolateEnvironment } from './interpolate.js';

describe('interpolateEnvironment', () => {
  it('replaces variables and uses defaults for unset ones', () => {
    expect(interpolateEnvironment('a: ${A}\nb: ${B:-fallback}', { A: 'one' })).toBe('a: one\nb: fallback');
  });

  it('treats an empty variable as unset', () => {
    expect(interpolateEnvironment('${A:-x}', { A: '' })).toBe('x');
  });

  it('keeps an escaped $${NAME} literally', () => {
    expect(interpolateEnvironment('$${HOME}', {})).toBe('${HOME}');
  });

  it('names every missing variable', () => {
    expect(() => interpolateEnvironment('${ONE} ${TWO}', {})).toThrow('environment variables not set: ONE, TWO');
  });
});
