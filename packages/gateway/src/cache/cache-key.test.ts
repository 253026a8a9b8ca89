import { describe, expect, it } from 'vitest';
import { cacheKeyOf, canonicalJson } from './cache-key.js';

const base = { protocol: 'openai.chat/completions', model: 'small', scope: 'shared', stream: false };

describe('the cache key', () => {
  it('does not depend on the order of JSON keys, at any depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}');
    const one = cacheKeyOf({ ...base, body: { temperature: 0, messages: [{ role: 'user', content: 'hi' }] } });
    const other = cacheKeyOf({ ...base, body: { messages: [{ content: 'hi', role: 'user' }], temperature: 0 } });
    expect(one).toBe(other);
    expect(one).toMatch(/^[0-9a-f]{64}$/);
  });

  it('ignores who asked and the model as sent, and keeps everything that changes the answer apart', () => {
    const body = { model: 'alias-of-small', temperature: 0, messages: [{ role: 'user', content: 'hi' }] };
    const key = cacheKeyOf({ ...base, body });
    expect(cacheKeyOf({ ...base, body: { ...body, model: 'small', user: 'someone', metadata: { team: 'x' } } })).toBe(key);
    expect(cacheKeyOf({ ...base, headers: {}, body })).toBe(key);
    const different = [
      { ...base, body: { ...body, temperature: 0.5 } },
      { ...base, body: { ...body, seed: 1 } },
      { ...base, body: { ...body, max_tokens: 10 } },
      { ...base, body: { ...body, tools: [] } },
      { ...base, body: { ...body, a_parameter_the_gateway_does_not_know: true } },
      { ...base, stream: true, body },
      { ...base, model: 'large', body },
      { ...base, tier: 'COMPLEX', body },
      { ...base, scope: 'key:key_1', body },
      { ...base, protocol: 'anthropic.messages', body },
      { ...base, headers: { 'anthropic-beta': 'output-128k-2025-02-19' }, body },
    ];
    for (const input of different) expect(cacheKeyOf(input)).not.toBe(key);
  });
});
