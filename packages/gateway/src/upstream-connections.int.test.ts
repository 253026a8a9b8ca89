import { afterEach, describe, expect, it } from 'vitest';
import { SIMULATOR_KEY, eventually, startHarness, type Harness } from './test-support/harness.js';
import { HoldingBackend } from './test-support/holding-backend.js';

/**
 * Upstream concurrency: no connection-pool default may act as a hidden queue, and an explicit `maxConnections`
 * is a measured wait with a deadline that never counts against the backend's circuit.
 */

const MODEL = 'held-model';

const running: { harness: Harness; backend: HoldingBackend }[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map(async ({ harness, backend }) => Promise.all([backend.close(), harness.close()])));
});

/** A gateway whose model `held-model` is served by the holding backend (and, with `spare`, by the simulator too). */
async function start(holding: Record<string, unknown>, options: { spare?: boolean } = {}) {
  const backend = new HoldingBackend(MODEL);
  const baseUrl = await backend.listen();
  const harness = await startHarness({
    models: options.spare ? [{ id: MODEL, outputTokens: 4 }] : [{ id: 'unused' }],
    configure: (config) => {
      const backends = config.backends as Record<string, unknown>[];
      // The simulator's backend is the spare: listed second and pricier, so the cost strategy tries the held one first.
      if (options.spare) (backends[0]!.models as Record<string, unknown>[])[0]!.pricing = { inputPerMTok: 9, outputPerMTok: 9 };
      backends.unshift({ name: 'held', baseUrl, apiKey: SIMULATOR_KEY, models: [{ name: MODEL, pricing: { inputPerMTok: 1, outputPerMTok: 1 } }], ...holding });
      config.routing = { strategy: 'cost' };
    },
  });
  running.push({ harness, backend });
  return { harness, backend };
}

const ask = (harness: Harness) => harness.client().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] });

describe('upstream connections', () => {
  describe('without maxConnections', () => {
    it('sends 300 concurrent requests to one backend at once: no pool default holds any back', async () => {
      const { harness, backend } = await start({});
      const answers = Array.from({ length: 300 }, () => ask(harness));
      // Under the old default of 256 connections the other 44 waited in the pool's queue, and this never held.
      await eventually(() => backend.held.length === 300, 20_000);
      backend.release();
      const completions = await Promise.all(answers);
      expect(completions.every((completion) => completion.choices[0]?.message.content === 'released')).toBe(true);
    });
  });

  describe('with maxConnections', () => {
    it('holds requests past the cap in the gateway, and logs and counts how long each waited', async () => {
      const { harness, backend } = await start({ maxConnections: 2, timeouts: { connectionWaitMs: 20_000 } });
      const answers = Array.from({ length: 5 }, () => ask(harness));
      await eventually(() => backend.held.length === 2);
      // The cap holds: the others wait in the gateway, not on the backend's sockets.
      await eventually(() => harness.gateway.live.current.backends.get('held').gate?.waiting === 3);
      expect(backend.received).toBe(2);
      backend.release(1);
      await eventually(() => backend.received === 3);
      backend.release();
      await eventually(() => backend.received === 5 && backend.held.length === 2);
      backend.release();
      await Promise.all(answers);
      await eventually(() => harness.logs.accessLines().length === 5);
      const waits = harness.logs.accessLines().map((line) => line.connectionWaitMs);
      expect(waits.filter((wait) => typeof wait === 'number' && wait > 0)).toHaveLength(3);
      const scrape = await fetch(`${harness.gateway.url}/metrics`).then((response) => response.text());
      expect(scrape).toMatch(/dosrouter_upstream_connection_wait_seconds_count\{backend="held",result="acquired"\} 3/);
    });

    it('fails over when the wait runs out, and the saturated backend keeps a closed circuit and a clean record', async () => {
      const { harness, backend } = await start(
        { maxConnections: 1, timeouts: { connectionWaitMs: 100 } },
        { spare: true },
      );
      const first = ask(harness);
      await eventually(() => backend.held.length === 1);
      // Each of these waits 100 ms for the one connection, then goes to the spare deployment and is answered.
      const overflow = await Promise.all(Array.from({ length: 12 }, () => ask(harness)));
      expect(overflow.every((completion) => completion.choices[0]?.message.content !== 'released')).toBe(true);
      backend.release();
      await first;
      expect(harness.gateway.cluster.breakers.states().get(`held/${MODEL}`)).toBe('closed');
      const scrape = await fetch(`${harness.gateway.url}/metrics`).then((response) => response.text());
      expect(scrape).toMatch(/dosrouter_upstream_connection_wait_seconds_count\{backend="held",result="timeout"\} 12/);
      expect(scrape).not.toMatch(/dosrouter_upstream_errors_total\{deployment="held\//);
      await eventually(() => harness.logs.accessLines().length === 13);
      const failedOver = harness.logs.accessLines().filter((line) => line.deployment === `sim/${MODEL}`);
      expect(failedOver).toHaveLength(12);
      expect(failedOver.every((line) => line.attempts === 2 && line.status === 200)).toBe(true);
    });
  });
});
