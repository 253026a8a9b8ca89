import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordTestSecret } from '../../packages/shared/src/test-support/log-archive.js';
import { createClientKey, startHarness, type Harness } from '../../packages/gateway/src/test-support/harness.js';

const ADMIN_KEY = `admin-${randomBytes(12).toString('hex')}`;
recordTestSecret(ADMIN_KEY);

describe('bodies nested 20,000 levels deep from one client', () => {
  let harness: Harness;
  let keyA: string;
  let keyB: string;
  beforeAll(async () => {
    harness = await startHarness({ models: [{ id: 'sim-model' }], adminKey: ADMIN_KEY });
    keyA = (await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'client A' })).secret;
    keyB = (await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'client B' })).secret;
  });
  afterAll(() => harness.close());

  it('are refused with 400 naming the depth limit, never reach the backend, and leave another client served', async () => {
    // A valid chat request but for a 40 KB field nested 20,000 levels: JSON.parse takes it, JSON.stringify of the
    // forwarded body threw inside the breaker, and after ten the deployment's circuit opened for every client.
    const body = `{"model":"sim-model","messages":[{"role":"user","content":"hi"}],"x":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    for (let request = 0; request < 20; request += 1) {
      const response = await fetch(`${harness.gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keyA}`, 'content-type': 'application/json' },
        body,
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: 'body_too_complex', param: null, type: 'invalid_request_error' } });
    }
    expect(harness.simulator.stats.requests).toBe(0);
    expect(harness.logs.lines.filter((line) => line.level === 'error')).toEqual([]);
    const clientB = new OpenAI({ apiKey: keyB, baseURL: `${harness.gateway.url}/v1`, maxRetries: 0 });
    const completion = await clientB.chat.completions.create({ model: 'sim-model', messages: [{ role: 'user', content: 'still served?' }] });
    expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(harness.simulator.stats.requests).toBe(1);
  });
});
