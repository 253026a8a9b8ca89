import { recordTestSecret } from '../../../shared/src/test-support/log-archive.js';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@dosrouter/provider-sim';
import { probeHttp } from './http-probe.js';

// The probe tests' backend key: no prober log line may show it.
recordTestSecret('sk-probe-key');

describe('the http probe', () => {
  let simulator: Simulator;
  beforeAll(async () => {
    simulator = await startSimulator({ models: [{ id: 'listed-model' }], apiKey: 'sk-probe-key' });
  });
  beforeEach(() => simulator.reset());
  afterAll(() => simulator.close());

  it('passes when the health endpoint answers the expected status', async () => {
    const result = await probeHttp({ baseUrl: simulator.baseUrl, path: '/healthz', expectedStatus: 200, timeoutMs: 2_000 });
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('fails with the status when it is not the expected one', async () => {
    expect(await probeHttp({ baseUrl: simulator.baseUrl, path: '/healthz', expectedStatus: 204, timeoutMs: 2_000 })).toMatchObject({
      ok: false,
      status: 200,
      reason: 'status 200, expected 204',
    });
  });

  it('resolves a path without a leading slash under the base URL, and sends the headers it is given', async () => {
    const result = await probeHttp({
      baseUrl: simulator.baseUrl,
      path: 'models',
      headers: { authorization: 'Bearer sk-probe-key' },
      expectedStatus: 200,
      timeoutMs: 2_000,
    });
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(simulator.recentRequests().at(-1)).toMatchObject({ method: 'GET', path: '/v1/models' });
  });

  it('probes an absolute URL', async () => {
    const url = `http://127.0.0.1:${simulator.port}/healthz`;
    expect(await probeHttp({ url, expectedStatus: 200, timeoutMs: 2_000 })).toMatchObject({ ok: true, status: 200 });
  });

  it('fails when nothing listens', async () => {
    const result = await probeHttp({ url: 'http://127.0.0.1:1/health', expectedStatus: 200, timeoutMs: 2_000 });
    expect(result.ok).toBe(false);
    expect(result.status).toBeUndefined();
    expect(result.reason).toMatch(/^unreachable/);
  });

  it('gives up on a backend that never answers when the timeout ends', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/health`;
      const result = await probeHttp({ url, expectedStatus: 200, timeoutMs: 300 });
      expect(result).toMatchObject({ ok: false, reason: 'no answer within 300 ms' });
      expect(result.latencyMs).toBeLessThan(300 + 3_000); // the timeout, and room for a busy machine
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('fails without a request when the path would leave the backend', async () => {
    const result = await probeHttp({ baseUrl: simulator.baseUrl, path: '//example.com/health', expectedStatus: 200, timeoutMs: 2_000 });
    expect(result).toMatchObject({ ok: false, reason: `path //example.com/health leaves http://127.0.0.1:${simulator.port}` });
  });
});
