import { describe, expect, it } from 'vitest';
import { responseCacheSchema } from '@dosrouter/shared';
import { cacheModeOf, type CachePolicyInput } from './cache-policy.js';

const config = responseCacheSchema.parse({ enabled: true, models: ['cached'], routes: ['/v1/embeddings'] });
const request = (overrides: Partial<CachePolicyInput> = {}): CachePolicyInput => ({
  route: '/v1/chat/completions',
  model: 'cached',
  operation: 'chat/completions',
  keyCache: undefined,
  header: undefined,
  cacheControl: undefined,
  body: { temperature: 0 },
  ...overrides,
});

describe('whether the cache is on for a request', () => {
  it('is on for the configured models and routes, and for a key or a request that asks', () => {
    expect(cacheModeOf(config, request())).toBe('use');
    expect(cacheModeOf(config, request({ model: 'other' }))).toBe('off');
    expect(cacheModeOf(config, request({ model: 'other', route: '/v1/embeddings', operation: 'embeddings', body: {} }))).toBe('use');
    expect(cacheModeOf(config, request({ model: 'other', keyCache: true }))).toBe('use');
    expect(cacheModeOf(config, request({ model: 'other', header: 'use' }))).toBe('use');
  });

  it('is off for a key that turns it off, whatever the request says', () => {
    expect(cacheModeOf(config, request({ keyCache: false, header: 'use' }))).toBe('off');
  });

  it('bypasses or refreshes on the header and cache-control', () => {
    expect(cacheModeOf(config, request({ header: 'bypass' }))).toBe('bypass');
    expect(cacheModeOf(config, request({ cacheControl: 'max-age=0, no-store' }))).toBe('bypass');
    expect(cacheModeOf(config, request({ header: 'Refresh' }))).toBe('refresh');
    expect(cacheModeOf(config, request({ cacheControl: 'no-cache' }))).toBe('refresh');
  });

  it('bypasses requests that are not deterministic unless the config allows them', () => {
    expect(cacheModeOf(config, request({ body: {} }))).toBe('bypass');
    expect(cacheModeOf(config, request({ body: { temperature: 1, seed: 3 } }))).toBe('use');
    expect(cacheModeOf({ ...config, requireDeterministic: false }, request({ body: { temperature: 1 } }))).toBe('use');
  });

  it('refuses an unknown header value with a 400 naming the header', () => {
    expect(() => cacheModeOf(config, request({ header: 'sometimes' }))).toThrow(expect.objectContaining({ status: 400, code: 'invalid_value', param: 'x-dosrouter-cache' }));
  });
});
