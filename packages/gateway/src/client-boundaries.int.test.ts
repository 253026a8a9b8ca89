import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './test-support/harness.js';

const chatBody = (model: string) => JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] });

describe('a rule on a path', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({
      models: [{ id: 'sim-model' }, { id: 'other-model' }],
      configure: (config) => {
        config.routing = { rules: [{ name: 'chat-elsewhere', match: { path: '/v1/chat/completions' }, route: { model: 'other-model' } }] };
      },
    });
  });
  afterAll(() => harness.close());

  it('applies to every spelling of the path that is served, and the others are 404s', async () => {
    const served = await fetch(`${harness.gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('sim-model') });
    expect(served.status).toBe(200);
    expect(served.headers.get('x-dosrouter-rule')).toBe('chat-elsewhere');
    for (const path of ['/v1/chat/completions/', '/V1/chat/completions', '/v1/Chat/Completions', '/V1/CHAT/COMPLETIONS/', '/v1/chat/completions//']) {
      const response = await fetch(`${harness.gateway.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('sim-model') });
      expect([path, response.status]).toEqual([path, 404]);
      expect(await response.json()).toMatchObject({ error: { code: 'unknown_url', type: 'invalid_request_error' } });
    }
    // No spelling slipped past the rule to the model it routes away from.
    expect(harness.simulator.stats.byModel['sim-model'] ?? 0).toBe(0);
    expect(harness.simulator.stats.byModel['other-model']).toBe(1);
  });
});
