import { recordTestSecret } from '../../../shared/src/test-support/log-archive.js';
import { request as httpRequest, Agent } from 'node:http';
import { connect } from 'node:net';
import type { Queue } from 'bullmq';
import { Counter, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedis, TEST_REDIS_URL, type TestRedis } from '../../../shared/src/test-support/redis.js';
import { startProberServer, type ProberServer } from './prober-server.js';
import {
  PROBE_QUEUE_NAME,
  PROBE_SCHEDULER_ID,
  capturingLogger,
  removeQueue,
  scheduledProbeQueue,
  type CapturedLogger,
} from './test-support/probe-queue-fixture.js';

const ADMIN_KEY = 'prober-server-test-admin-key';
recordTestSecret(ADMIN_KEY);
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

describe('the prober server', () => {
  let redis: TestRedis;
  let queue: Queue;
  let server: ProberServer;
  let log: CapturedLogger;
  let ready = false;
  /** Every body the server sent, to check that the admin key never appears in one. */
  const bodies: string[] = [];

  const get = async (path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> => {
    const response = await fetch(`${server.url}${path}`, { method, headers });
    const text = await response.text();
    bodies.push(text);
    return { status: response.status, headers: response.headers, text };
  };

  beforeAll(async () => {
    redis = await testRedis('prober-server');
    queue = await scheduledProbeQueue(TEST_REDIS_URL, redis.prefix);
    const registry = new Registry();
    new Counter({ name: 'dosrouter_probes_total', help: 'Probes run.', registers: [registry] }).inc(3);
    log = capturingLogger();
    server = await startProberServer({
      host: '127.0.0.1',
      port: 0,
      registry,
      queues: [queue],
      adminKey: ADMIN_KEY,
      clientKeysRequired: true,
      logger: log.logger,
      isReady: () => ready,
    });
  });

  afterAll(async () => {
    await server?.close();
    if (queue) await removeQueue(queue);
    await redis?.cleanup();
  });

  it('answers /healthz', async () => {
    const answer = await get('/healthz');
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ status: 'ok' });
  });

  it('answers /readyz with 503 until the prober is ready, then 200', async () => {
    ready = false;
    const before = await get('/readyz');
    expect(before.status).toBe(503);
    expect(JSON.parse(before.text)).toEqual({ status: 'not_ready' });
    ready = true;
    const after = await get('/readyz');
    expect(after.status).toBe(200);
    expect(JSON.parse(after.text)).toEqual({ status: 'ready' });
  });

  it("serves the registry's metrics in the Prometheus text format, to the admin key only", async () => {
    expect((await get('/metrics')).status).toBe(401);
    expect((await get('/metrics', { authorization: 'Bearer wrong-key' })).status).toBe(401);
    const answer = await get('/metrics', { authorization: `Bearer ${ADMIN_KEY}` });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(answer.text).toContain('# TYPE dosrouter_probes_total counter');
    expect(answer.text).toContain('dosrouter_probes_total 3');
  });

  it('answers an unknown path with an OpenAI-shaped 404', async () => {
    const answer = await get('/v1/nothing-here');
    expect(answer.status).toBe(404);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(JSON.parse(answer.text)).toEqual({
      error: { message: 'Unknown request URL: GET /v1/nothing-here.', type: 'invalid_request_error', param: null, code: 'unknown_url' },
    });
  });

  describe('when bull-board is asked for without the admin key', () => {
    it('answers 401 with a Basic challenge and an OpenAI-shaped error', async () => {
      const answer = await get('/admin/queues');
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toBe('Basic realm="dosrouter-admin"');
      expect([answer.headers.get('cache-control'), answer.headers.get('x-content-type-options')]).toEqual(['no-store', 'nosniff']);
      expect(JSON.parse(answer.text)).toEqual({
        error: { message: expect.stringContaining('admin key'), type: 'authentication_error', param: null, code: 'invalid_admin_key' },
      });
    });

    it('answers 401 to a wrong bearer token, a wrong Basic password and a malformed header', async () => {
      for (const authorization of ['Bearer wrong-key', basic('admin', 'wrong-key'), 'Basic !!!', `Token ${ADMIN_KEY}`]) {
        const answer = await get('/admin/queues', { authorization });
        expect(answer.status, authorization).toBe(401);
        expect(answer.headers.get('www-authenticate')).toBe('Basic realm="dosrouter-admin"');
        expect(JSON.parse(answer.text).error).toMatchObject({ type: 'authentication_error', code: 'invalid_admin_key', message: 'Invalid admin key.' });
      }
    });

    it("guards bull-board's API and static files too", async () => {
      expect((await get(`/admin/queues/api/queues`)).status).toBe(401);
      expect((await get('/admin/queues/static/favicon-32x32.png')).status).toBe(401);
    });

    it('logs a wrong key with its path, never the credential', async () => {
      // A server of its own: failed logins after the first of an interval are summed up (FailedAdminLogins), and the
      // tests above have failed logins on the shared one.
      const ownLog = capturingLogger();
      const own = await startProberServer({ host: '127.0.0.1', port: 0, registry: new Registry(), queues: [queue], adminKey: ADMIN_KEY, clientKeysRequired: true, logger: ownLog.logger, isReady: () => true });
      try {
        const response = await fetch(`${own.url}/admin/queues?page=1`, { headers: { authorization: `Bearer ${ADMIN_KEY}-guess` } });
        expect(response.status).toBe(401);
        expect(ownLog.lines()).toContainEqual(expect.objectContaining({ level: 'warn', message: 'admin authentication failed', route: '/admin/queues' }));
        expect(ownLog.text()).not.toContain('-guess');
        expect(log.text()).not.toContain('-guess');
      } finally {
        await own.close();
      }
    });
  });

  describe('when bull-board is asked for with the admin key', () => {
    it('serves the page to a bearer token', async () => {
      const answer = await get('/admin/queues', { authorization: `Bearer ${ADMIN_KEY}` });
      expect(answer.status).toBe(200);
      expect([answer.headers.get('cache-control'), answer.headers.get('x-content-type-options')]).toEqual(['no-store', 'nosniff']);
      expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
      expect(answer.headers.get('x-powered-by')).toBeNull();
      expect(answer.text).toContain('<title>DOSRouter probes</title>');
    });

    it('serves the page to HTTP Basic with any user name and the key as password', async () => {
      const answer = await get('/admin/queues', { authorization: basic('anyone', ADMIN_KEY) });
      expect(answer.status).toBe(200);
      expect(answer.text).toContain('<base href="/admin/queues/" />');
    });

    it('reads the queue and its scheduler through a BullMQ prefix with a hash tag', async () => {
      const queues = JSON.parse((await get('/admin/queues/api/queues', { authorization: `Bearer ${ADMIN_KEY}` })).text);
      expect(queues.queues).toEqual([
        expect.objectContaining({ name: PROBE_QUEUE_NAME, readOnlyMode: true, jobSchedulerCount: 1, counts: expect.objectContaining({ waiting: 1 }) }),
      ]);
      const schedulers = JSON.parse((await get('/admin/queues/api/job-schedulers', { authorization: `Bearer ${ADMIN_KEY}` })).text);
      expect(schedulers.schedulers).toEqual([
        expect.objectContaining({ id: PROBE_SCHEDULER_ID, queueName: PROBE_QUEUE_NAME, every: 60_000, template: { data: { deploymentId: 'sim/fast' } } }),
      ]);
      const stats = await get('/admin/queues/api/redis/stats', { authorization: `Bearer ${ADMIN_KEY}` });
      expect(stats.status).toBe(200);
    });

    it('refuses to change the queues: the prober owns the schedules', async () => {
      const pause = await get(`/admin/queues/api/queues/${PROBE_QUEUE_NAME}/pause`, { authorization: `Bearer ${ADMIN_KEY}` }, 'PUT');
      expect(pause.status).toBe(405);
      expect(await queue.isPaused()).toBe(false);
      expect(await queue.getJobSchedulersCount()).toBe(1);
    });

    it('answers an unknown admin path with an OpenAI-shaped 404', async () => {
      const answer = await get('/admin/queues/no/such/page', { authorization: `Bearer ${ADMIN_KEY}` });
      expect(answer.status).toBe(404);
      expect(JSON.parse(answer.text).error).toMatchObject({ code: 'unknown_url', type: 'invalid_request_error' });
    });
  });

  it('never puts the admin key in a response or a log line', () => {
    expect(bodies.length).toBeGreaterThan(10);
    for (const body of bodies) expect(body).not.toContain(ADMIN_KEY);
    expect(log.text()).not.toContain(ADMIN_KEY);
    expect(log.lines().filter((line) => line.level === 'warn' && line.message !== 'admin authentication failed')).toEqual([]);
  });
});

describe('the prober server without an admin key', () => {
  let server: ProberServer;
  let log: CapturedLogger;

  beforeAll(async () => {
    log = capturingLogger();
    server = await startProberServer({
      host: '127.0.0.1',
      port: 0,
      registry: new Registry(),
      queues: [],
      adminKey: undefined,
      clientKeysRequired: false,
      logger: log.logger,
      isReady: () => {
        throw new Error('readiness check exploded');
      },
    });
  });
  afterAll(() => server?.close());

  it('answers every admin path with a 404 that says how to enable it, even with a credential', async () => {
    for (const path of ['/admin', '/admin/queues', '/admin/queues/api/queues']) {
      const response = await fetch(`${server.url}${path}`, { headers: { authorization: 'Bearer anything' } });
      expect(response.status, path).toBe(404);
      expect(await response.json()).toEqual({
        error: { message: expect.stringContaining('set DOSROUTER_ADMIN_KEY'), type: 'invalid_request_error', param: null, code: 'admin_disabled' },
      });
    }
  });

  it('serves /metrics without a credential where the cluster runs open, as the gateway does', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(200);
  });

  it('logged one warning at start', () => {
    const warnings = log.lines().filter((line) => line.level === 'warn');
    expect(warnings).toEqual([expect.objectContaining({ message: expect.stringContaining('DOSROUTER_ADMIN_KEY') })]);
  });

  it('answers a failing handler with an OpenAI-shaped 500 and keeps serving', async () => {
    const response = await fetch(`${server.url}/readyz`);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({
      error: { message: expect.any(String), type: 'server_error', param: null, code: 'internal_error' },
    });
    expect(log.lines()).toContainEqual(expect.objectContaining({ level: 'error', message: 'unhandled error', route: '/readyz' }));
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});

describe('closing the prober server', () => {
  const start = (): Promise<ProberServer> =>
    startProberServer({
      host: '127.0.0.1',
      port: 0,
      registry: new Registry(),
      queues: [],
      adminKey: ADMIN_KEY,
      clientKeysRequired: true,
      logger: capturingLogger().logger,
      isReady: () => true,
    });

  it('cuts idle keep-alive connections instead of waiting for them', async () => {
    const server = await start();
    const agent = new Agent({ keepAlive: true, keepAliveMsecs: 60_000 });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const request = httpRequest(`${server.url}/healthz`, { agent }, (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        });
        request.on('error', reject);
        request.end();
      });
      expect(status).toBe(200);
      expect(Object.values(agent.freeSockets).flat()).toHaveLength(1);
      const started = performance.now();
      await server.close();
      // Waiting for the idle connection instead would take Node's keep-alive timeout (5 s) or the client's (60 s).
      expect(performance.now() - started).toBeLessThan(4_000);
      await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    } finally {
      agent.destroy();
    }
  });

  it('cuts a connection in the middle of a request instead of waiting for its headers timeout', async () => {
    const server = await start();
    const socket = connect(server.port, '127.0.0.1');
    try {
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      const closedByServer = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      // A request whose headers never end: server.close() alone would wait for headersTimeout (60 s by default).
      socket.write('GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n');
      await new Promise((resolve) => setImmediate(resolve));
      const started = performance.now();
      await server.close();
      await closedByServer;
      // Waiting for the headers instead would take headersTimeout (60 s).
      expect(performance.now() - started).toBeLessThan(10_000);
    } finally {
      socket.destroy();
    }
  });
});
