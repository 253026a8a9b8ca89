import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startHarness, type Harness } from './test-support/harness.js';

describe('the other endpoints', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({
      models: [{ id: 'sim-model' }, { id: 'sim-embed' }],
      configure: (config) => {
        (config as { aliases: Record<string, string> }).aliases = { 'vendor/alias': 'sim-model' };
      },
    });
  });
  afterAll(() => harness.close());

  it('lists the served models, aliases and virtual models in OpenAI’s shape', async () => {
    const page = await harness.client().models.list();
    expect(page.data.map((model) => model.id).sort()).toEqual(['auto', 'eco', 'premium', 'sim-embed', 'sim-model', 'vendor/alias']);
    expect(page.data[0]).toMatchObject({ object: 'model', owned_by: 'dosrouter' });
    const one = await harness.client().models.retrieve('vendor/alias');
    expect(one.id).toBe('vendor/alias');
  });

  it('forwards embeddings, decoding the SDK’s default base64 encoding', async () => {
    const result = await harness.client().embeddings.create({ model: 'sim-embed', input: ['one', 'two'] });
    expect(result.data).toHaveLength(2);
    expect(result.data[0]?.embedding.length).toBeGreaterThan(0);
    expect(result.data[0]?.embedding.every((value) => Number.isFinite(value))).toBe(true);
  });

  it('forwards legacy completions, streaming too', async () => {
    const whole = await harness.client().completions.create({ model: 'sim-model', prompt: 'Once upon a time' });
    expect(whole.choices[0]?.text.length).toBeGreaterThan(0);
    const stream = await harness.client().completions.create({ model: 'sim-model', prompt: 'Once upon a time', stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe(whole.choices[0]?.text);
  });

  it('reports liveness and readiness', async () => {
    expect((await fetch(`${harness.gateway.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${harness.gateway.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('exposes Prometheus metrics for the requests it served', async () => {
    await harness.client().chat.completions.create({ model: 'sim-model', messages: [{ role: 'user', content: 'count me' }] });
    const text = await (await fetch(`${harness.gateway.url}/metrics`)).text();
    expect(text).toMatch(/dosrouter_requests_total\{route="\/v1\/chat\/completions",model="sim-model",deployment="sim\/sim-model",status="200"\} \d+/);
    expect(text).toMatch(/dosrouter_request_duration_seconds_bucket/);
    expect(text).toMatch(/dosrouter_time_to_first_token_seconds_bucket/);
    expect(text).toMatch(/dosrouter_gateway_overhead_seconds_count \d+/);
    expect(text).toMatch(/dosrouter_tokens_total\{model="sim-model",deployment="sim\/sim-model",kind="completion"\} \d+/);
    expect(text).toMatch(/dosrouter_requests_in_flight 0/);
    expect(text).toMatch(/dosrouter_upstream_errors_total/);
  });

  it('logs one access line per request with no prompt text', async () => {
    await harness.client().chat.completions.create(
      { model: 'sim-model', messages: [{ role: 'user', content: 'SECRET-PROMPT-TEXT' }] },
      { headers: { 'x-request-id': 'access-line-1' } },
    );
    await eventually(() => harness.logs.accessLines().some((line) => line.requestId === 'access-line-1'));
    const lines = harness.logs.accessLines().filter((line) => line.requestId === 'access-line-1');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', status: 200, model: 'sim-model', deployment: 'sim/sim-model', attempts: 1 });
    expect(lines[0]).toHaveProperty('latencyMs');
    expect(lines[0]).toHaveProperty('promptTokens');
    expect(JSON.stringify(harness.logs.lines)).not.toContain('SECRET-PROMPT-TEXT');
  });
});

describe('draining', () => {
  it('turns not-ready at once and lets an in-flight stream finish', async () => {
    const harness = await startHarness({ models: [{ id: 'sim-slow', outputTokens: 30, interTokenDelayMs: 10 }] });
    const stream = await harness.client().chat.completions.create({ model: 'sim-slow', messages: [{ role: 'user', content: 'go' }], stream: true });
    const closing = harness.gateway.close(5_000);
    expect(harness.gateway.readiness.state).toBe('draining');
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text.split(' ').length).toBe(30);
    expect(await closing).toBe(true);
    await harness.simulator.close();
  });
});
