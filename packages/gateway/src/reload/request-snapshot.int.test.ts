import { afterEach, describe, expect, it } from 'vitest';
import { configSchema, type GatewayConfig } from '@dosrouter/shared';
import type { RunningGateway } from '../gateway.js';
import { startReloadableGateway } from '../test-support/reloadable-gateway.js';
import { HoldingBackend } from '../test-support/holding-backend.js';
import { eventually } from '../test-support/harness.js';

describe('a request in flight across a config reload', () => {
  let backend: HoldingBackend | undefined;
  let gateway: RunningGateway | undefined;
  afterEach(async () => {
    await gateway?.close(1_000);
    await backend?.close();
  });

  it('finishes on the config it started with (its backend pool and prices), while the next request uses the new one', async () => {
    backend = new HoldingBackend('m');
    const baseUrl = await backend.listen();
    const configAt = (pricePerMTok: number): GatewayConfig =>
      configSchema.parse({
        prober: { embedded: false },
        backends: [{ name: 'held', baseUrl, models: [{ name: 'm', pricing: { inputPerMTok: pricePerMTok, outputPerMTok: pricePerMTok } }] }],
      });
    let next = configAt(1_000);
    gateway = await startReloadableGateway(() => next);
    const ask = (): Promise<Response> =>
      fetch(`${gateway!.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'Hi' }] }) });

    const first = ask();
    await eventually(() => backend!.held.length === 1, 5_000, 'the first request held by the backend');
    const before = gateway.live.current;

    // The price doubles: the backend's settings changed, so the new snapshot has a pool of its own.
    next = configAt(2_000);
    expect(await gateway.reloadConfig()).toMatchObject({ result: 'applied' });
    const after = gateway.live.current;
    expect(after).not.toBe(before);
    expect(after.backends.get('held')).not.toBe(before.backends.get('held'));
    expect(before.backends.get('held').pool.closed).toBe(false);

    const second = ask();
    await eventually(() => backend!.held.length === 2, 5_000, 'the second request held by the backend');
    backend.release();
    const [firstAnswer, secondAnswer] = await Promise.all([first, second]);
    expect(firstAnswer.status).toBe(200);
    expect(secondAnswer.status).toBe(200);
    // 3 prompt and 1 completion tokens: $0.004 at $1,000 per million, $0.008 at $2,000.
    expect(Number(firstAnswer.headers.get('x-dosrouter-cost-usd'))).toBeCloseTo(0.004, 9);
    expect(Number(secondAnswer.headers.get('x-dosrouter-cost-usd'))).toBeCloseTo(0.008, 9);
    // The old pool closes once the last request on the old snapshot is over; the new one stays.
    await eventually(() => before.backends.get('held').pool.closed, 5_000, 'the replaced pool closed');
    expect(after.backends.get('held').pool.closed).toBe(false);
  });

  it('lets requests waiting for a deployment’s slot through at once when a reload raises its maxConcurrent', async () => {
    backend = new HoldingBackend('m');
    const baseUrl = await backend.listen();
    const configWith = (maxConcurrent: number): GatewayConfig =>
      configSchema.parse({
        prober: { embedded: false },
        // Long enough that only a slot, never the deadline, ends the wait.
        saturation: { queueTimeoutMs: 60_000 },
        backends: [{ name: 'held', baseUrl, models: [{ name: 'm', maxConcurrent }] }],
      });
    let next = configWith(1);
    gateway = await startReloadableGateway(() => next);
    // Each answer's status (or why it failed): a request cut when the test fails is no unhandled rejection.
    const ask = (): Promise<number | string> =>
      fetch(`${gateway!.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'Hi' }] }) }).then(
        (answer) => answer.status,
        (error: Error) => error.message,
      );
    const first = ask();
    await eventually(() => backend!.held.length === 1, 5_000, 'the first request held by the backend');
    const waiting = [ask(), ask()];
    const waitingForSlot = async (): Promise<number> => {
      const gauge = await gateway!.metrics.registry.getSingleMetric('dosrouter_deployment_saturation_requests')?.get();
      return gauge?.values.find((value) => value.labels.deployment === 'held/m' && value.labels.state === 'waiting')?.value ?? 0;
    };
    await eventually(async () => (await waitingForSlot()) === 2, 5_000, 'two requests waiting for the deployment’s slot');
    next = configWith(3);
    expect(await gateway.reloadConfig()).toMatchObject({ result: 'applied' });
    // The first request still holds its slot: the two waiting take the two the reload added.
    await eventually(() => backend!.held.length === 3, 10_000, 'the waiting requests sent on');
    backend.release();
    expect(await Promise.all([first, ...waiting])).toEqual([200, 200, 200]);
  });
});
