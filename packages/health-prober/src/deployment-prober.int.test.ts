import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@dosrouter/shared';
import { DeploymentProber } from './deployment-prober.js';
import type { ProbePlan } from './probe-plan.js';
import { WeightsKeeper } from './weights/weights-keeper.js';
import { MemoryWeightsStore } from './weights/weights-store.js';

/**
 * Probe latency that the prober's own process added (its event loop busy with other work, as an embedded prober
 * inside a gateway carrying thousands of streams) is not held against the backend; a backend that is slow itself is.
 */

const DEPLOYMENT = 'backend/model';
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

/** A backend whose GET /v1/models answers after `delayMs()` of its own (a timer: this process's loop stays idle). */
async function backend(delayMs: () => number): Promise<string> {
  const server = createServer((_request, response) => {
    setTimeout(() => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ object: 'list', data: [{ id: 'model' }] }));
    }, delayMs());
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}

function prober(baseUrl: string, timeoutMs = 10_000) {
  const keeper = new WeightsKeeper({ deployments: [{ id: DEPLOYMENT, configuredWeight: 1 }], store: new MemoryWeightsStore(), readStats: async () => new Map() });
  const plan: ProbePlan = {
    deploymentId: DEPLOYMENT,
    settings: { kind: 'models', intervalMs: 60_000, timeoutMs },
    target: { baseUrl, headers: {}, upstreamModel: 'model', timeoutMs },
  };
  return { plan, prober: new DeploymentProber({ keeper, logger: createLogger({ level: 'error', service: 'prober', destination: process.stderr }) }) };
}

/** Keeps this process's event loop busy for `ms`, as thousands of streams would. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

describe('DeploymentProber', () => {
  describe("when the probing process's own event loop was busy while the backend answered", () => {
    it('does not count that wait against the backend: it stays healthy', async () => {
      const { plan, prober: deploymentProber } = prober(await backend(() => 0));
      for (let probe = 0; probe < 3; probe += 1) expect((await deploymentProber.probe(plan)).state).toBe('healthy');
      const probing = deploymentProber.probe(plan);
      busy(1_000);
      const report = await probing;
      // The probe took the whole second (its metrics say so)…
      expect(report.result.latencyMs).toBeGreaterThanOrEqual(1_000);
      // …but the backend answered at once: no latency penalty, no change of state.
      expect(report.state).toBe('healthy');
      expect(report.weight).toBe(1);
    });
  });

  describe("when a probe's deadline passed while the event loop was busy", () => {
    it('gives no verdict: not a failure, the deployment stays healthy', async () => {
      const { plan, prober: deploymentProber } = prober(await backend(() => 0), 200);
      for (let probe = 0; probe < 3; probe += 1) expect((await deploymentProber.probe(plan)).state).toBe('healthy');
      for (let stalled = 0; stalled < 3; stalled += 1) {
        const probing = deploymentProber.probe(plan);
        busy(600);
        // After the stall the timer runs before the answer is read: the probe reports a timeout…
        const report = await probing;
        expect(report.result).toMatchObject({ ok: false, timedOut: true });
        // …which is not held against the backend (three in a row would take it down).
        expect(report.state).toBeUndefined();
      }
      const next = await deploymentProber.probe(plan);
      expect(next).toMatchObject({ state: 'healthy', weight: 1 });
    });
  });

  describe('when the backend itself is slow', () => {
    it('lowers its weight for the latency (degraded)', async () => {
      let delayMs = 0;
      const { plan, prober: deploymentProber } = prober(await backend(() => delayMs));
      for (let probe = 0; probe < 3; probe += 1) expect((await deploymentProber.probe(plan)).state).toBe('healthy');
      delayMs = 1_000;
      const report = await deploymentProber.probe(plan);
      expect(report.state).toBe('degraded');
      expect(report.weight).toBeLessThan(1);
    });
  });
});
