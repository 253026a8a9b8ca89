import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './test-support/harness.js';

const body = JSON.stringify({ model: 'sim-model', messages: [{ role: 'user', content: 'hi' }] });
const post = (harness: Harness, headers: Record<string, string> = {}) =>
  fetch(`${harness.gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

describe('security headers, and CORS off by default', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ models: [{ id: 'sim-model' }] });
  });
  afterAll(() => harness.close());

  it('sends nosniff, no framing and no referrer on answers and errors', async () => {
    for (const response of [await post(harness), await fetch(`${harness.gateway.url}/v1/nowhere`)]) {
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('answers no CORS preflight and allows no origin unless configured', async () => {
    const preflight = await fetch(`${harness.gateway.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    expect(preflight.status).toBe(404);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect((await post(harness, { origin: 'https://evil.example' })).headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('CORS, when server.cors lists origins', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ models: [{ id: 'sim-model' }], configure: (config) => void (config.server = { cors: { origins: ['https://app.example'] } }) });
  });
  afterAll(() => harness.close());

  it('answers the preflight of an allowed origin, and only of that one', async () => {
    const allowed = await fetch(`${harness.gateway.url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');
    // The official SDKs send x-stainless-* headers: a preflight that lists them must allow them.
    const sdk = await fetch(`${harness.gateway.url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-headers': 'x-stainless-retry-count, x-stainless-os, bad header' },
    });
    expect(sdk.headers.get('access-control-allow-headers')).toContain('x-stainless-retry-count');
    expect(sdk.headers.get('access-control-allow-headers')).not.toContain('bad header');
    const other = await fetch(`${harness.gateway.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(other.headers.get('vary')).toBe('Origin');
    expect(harness.simulator.stats.requests).toBe(0);
  });

  it('lets the allowed origin read the answer and the routing headers', async () => {
    const response = await post(harness, { origin: 'https://app.example' });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(response.headers.get('access-control-expose-headers')).toContain('x-dosrouter-cost-usd');
    expect(response.headers.get('vary')).toBe('Origin');
  });
});
