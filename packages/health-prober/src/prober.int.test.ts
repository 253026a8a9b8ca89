import { afterEach, describe, expect, it } from 'vitest';
import { RedisBreakerStore, RedisKeyStore } from '@dosrouter/shared';
import { checkMetrics } from '../../shared/src/test-support/promtool.js';
import { RECOMPUTE_SCHEDULER_ID } from './worker/probe-queue.js';
import { BACKEND_KEY, PROBER_ADMIN_KEY, modelListRequests, schedulers, scrapeMetrics, startProberFixture, waitFor, type ProberFixture } from './test-support/prober-fixture.js';

let fixture: ProberFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});


describe('the prober process', () => {
  it('keeps one job scheduler per deployment, upserted at start and removed with its deployment; they outlive the prober', async () => {
    fixture = await startProberFixture({ intervalMs: 5_000 });
    const first = await fixture.startProber('prober-1');
    expect(await schedulers(fixture)).toEqual({ 'probe:a/chat-model': 5_000, 'probe:b/chat-model': 5_000, [RECOMPUTE_SCHEDULER_ID]: 5_000 });
    await first.close();
    // Nothing runs now; the schedules are still in Redis for the next prober.
    expect(Object.keys(await schedulers(fixture))).toHaveLength(3);

    const second = await fixture.startProber('prober-2', (document) => {
      const backends = document.backends as { name: string; probe?: unknown }[];
      document.backends = backends.filter((backend) => backend.name === 'a').map((backend) => ({ ...backend, probe: { intervalMs: 7_000 } }));
    });
    expect(second.schedulers.removed).toEqual(['probe:b/chat-model']);
    expect(await schedulers(fixture)).toEqual({ 'probe:a/chat-model': 7_000, [RECOMPUTE_SCHEDULER_ID]: 5_000 });
  });

  it('probes each deployment once per interval however many probers run', async () => {
    const intervalMs = 250;
    fixture = await startProberFixture({ intervalMs });
    await Promise.all([fixture.startProber('prober-1'), fixture.startProber('prober-2')]);
    const { a, b } = fixture.simulators;
    const startedAt = Date.now();
    const startA = modelListRequests(a);
    const startB = modelListRequests(b);
    // Ten probes of each, however long a busy machine takes; then no more than one per interval that passed (two
    // probers that both probed would make two), give or take one at each end of the span.
    await waitFor(() => Math.min(modelListRequests(a) - startA, modelListRequests(b) - startB), (probes) => probes >= 10, 20_000, 'ten probes of each');
    const intervals = (Date.now() - startedAt) / intervalMs;
    for (const probes of [modelListRequests(a) - startA, modelListRequests(b) - startB]) expect(probes).toBeLessThanOrEqual(Math.floor(intervals) + 2);
  });

  it('drains a deployment that starts failing within two probe intervals, and brings it back in steps', async () => {
    const intervalMs = 300;
    fixture = await startProberFixture({ intervalMs });
    await fixture.startProber('prober-1');
    const current = fixture;
    // Healthy first: both at their configured weight.
    // Healthy first, and one more successful probe of b after that table.
    await waitFor(() => current.readDocument(), (document) => document?.weights['b/chat-model'] === 1 && document.health?.['b/chat-model']?.state === 'healthy', 15_000, 'a first table');
    const probesOfB = modelListRequests(current.simulators.b);
    await waitFor(() => modelListRequests(current.simulators.b), (probes) => probes > probesOfB, 15_000, 'another probe of b');

    const announcedBefore = current.announced.length;
    const failingSince = Date.now();
    current.simulators.b.setOutage({ mode: 'error', status: 503 });
    // The first table announced with b at 0, however late a busy machine ran or published it.
    const drained = (await waitFor(
      () => current.announced.slice(announcedBefore).find((document) => document.weights['b/chat-model'] === 0),
      (document) => document !== undefined,
      15_000,
      'weight 0',
    ))!;
    expect(drained.health?.['b/chat-model']?.state).toBe('down');
    expect(drained.weights['a/chat-model']).toBe(1);
    // Not before the second failed probe (failuresToDown; exactly the second: the weights engine's own tests).
    expect(current.simulators.b.stats.faults.outage).toBeGreaterThanOrEqual(2);
    // Two intervals, plus the time to probe and publish, with room for a busy machine.
    expect(Date.now() - failingSince).toBeLessThanOrEqual(2 * intervalMs + 3_000);

    const announcedAtRecovery = current.announced.length;
    const probesBefore = modelListRequests(current.simulators.b);
    current.simulators.b.setOutage(undefined);
    await waitFor(
      () => current.announced.slice(announcedAtRecovery).some((document) => document.weights['b/chat-model']! > 0),
      (returned) => returned,
      20_000,
      'a first step',
    );
    // Hysteresis: three successful probes before any weight returns, so one lucky probe does not flap it.
    expect(modelListRequests(current.simulators.b) - probesBefore).toBeGreaterThanOrEqual(3);
    // Recovered, as announced (the document in Redis can be read before its announcement has arrived here).
    await waitFor(
      () => current.announced.slice(announcedAtRecovery).some((document) => document.health?.['b/chat-model']?.state === 'healthy'),
      (recovered) => recovered,
      20_000,
      'recovered',
    );
    // Announcements carry every deployment: keep the changes of b's weight, after the zeros of its last failures.
    const weightsOfB = current.announced
      .slice(announcedAtRecovery)
      .map((document) => document.weights['b/chat-model'])
      .filter((weight, index, all) => index === 0 || weight !== all[index - 1]);
    // Then one 25% step per successful probe: never straight back to full.
    expect(weightsOfB.filter((weight) => weight !== 0)).toEqual([0.25, 0.5, 0.75, 1]);
  });

  it('closes a circuit that errors opened once a probe succeeds, but not one a backend’s 429 holds open', async () => {
    const intervalMs = 250;
    fixture = await startProberFixture({ intervalMs });
    const breakers = new RedisBreakerStore(fixture.redis as never, fixture.redis as never, fixture.keys);
    await breakers.publish({ deploymentId: 'a/chat-model', state: 'open', durationMs: 60_000, replica: 'replica-1', cause: 'errors' });
    await breakers.publish({ deploymentId: 'b/chat-model', state: 'open', durationMs: 60_000, replica: 'replica-1', cause: 'rate_limit' });
    const current = fixture;
    const prober = await current.startProber('prober-1');
    await waitFor(() => current.redis.exists(current.keys.breaker('a/chat-model')), (exists) => exists === 0, 10_000, 'circuit a closed');
    // Three more successful probes of b, each of which would have closed its circuit were it one that errors opened.
    const probesOfB = modelListRequests(current.simulators.b);
    await waitFor(() => modelListRequests(current.simulators.b) - probesOfB, (probes) => probes >= 3, 10_000, 'three more probes of b');
    expect(await current.redis.exists(current.keys.breaker('b/chat-model'))).toBe(1);
    const metrics = await scrapeMetrics(prober);
    expect(metrics).toMatch(/dosrouter_probe_circuits_closed_total\{deployment="a\/chat-model"\} 1/);
  });

  it('reports probe outcomes, latency and each deployment’s weight on /metrics', async () => {
    const intervalMs = 200;
    fixture = await startProberFixture({ intervalMs });
    fixture.simulators.b.setOutage({ mode: 'reset' });
    const prober = await fixture.startProber('prober-1');
    const read = (): Promise<string> => scrapeMetrics(prober);
    const metrics = await waitFor(read, (text) => /dosrouter_routing_weight\{deployment="b\/chat-model"\} 0\n/.test(text), 15_000, 'b drained in metrics');
    expect(metrics).toMatch(/dosrouter_probes_total\{deployment="a\/chat-model",kind="models",outcome="ok"\} [1-9]/);
    expect(metrics).toMatch(/dosrouter_probes_total\{deployment="b\/chat-model",kind="models",outcome="failed"\} [1-9]/);
    expect(metrics).toMatch(/dosrouter_probe_duration_seconds_count\{deployment="a\/chat-model",kind="models"\} [1-9]/);
    expect(metrics).toMatch(/dosrouter_routing_weight\{deployment="a\/chat-model"\} 1\n/);
    expect(metrics).toMatch(/dosrouter_deployment_health_state\{deployment="b\/chat-model",state="down"\} 1\n/);
    // The exposition lints clean, the Node.js process metrics under their standard names included.
    expect(metrics).toMatch(/^process_cpu_seconds_total /m);
    expect(metrics).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(await checkMetrics(metrics)).toEqual({ exitCode: 0, output: '' });
  });

  it('keeps backend credentials out of Redis: job data, job results, health records and the table', async () => {
    fixture = await startProberFixture({ intervalMs: 200 });
    fixture.simulators.b.setOutage({ mode: 'error', status: 401 });
    await fixture.startProber('prober-1');
    const current = fixture;
    await waitFor(() => current.readDocument(), (document) => document?.weights['b/chat-model'] === 0, 15_000, 'b drained');
    const values: string[] = [];
    for (const key of await current.redis.keys(`${current.prefix}:*`)) {
      const type = await current.redis.type(key);
      if (type === 'string') values.push((await current.redis.get(key)) ?? '');
      else if (type === 'hash') values.push(JSON.stringify(await current.redis.hgetall(key)));
      else if (type === 'zset') values.push(JSON.stringify(await current.redis.zrange(key, '0', '-1')));
      else if (type === 'list') values.push(JSON.stringify(await current.redis.lrange(key, 0, -1)));
      else if (type === 'stream') values.push(JSON.stringify(await current.redis.xrange(key, '-', '+')));
    }
    expect(values.join('\n')).toContain('b/chat-model');
    expect(values.join('\n')).not.toContain(BACKEND_KEY);
  });

  it('guards /metrics by the gateways’ rule: the admin key when set; without it, closed once the cluster requires keys', async () => {
    fixture = await startProberFixture({ intervalMs: 60_000 });
    const status = async (prober: { url: string }, authorization?: string): Promise<number> =>
      (await fetch(`${prober.url}/metrics`, authorization ? { headers: { authorization } } : {})).status;
    const withAdminKey = await fixture.startProber('prober-admin');
    expect(await status(withAdminKey)).toBe(401);
    expect(await status(withAdminKey, 'Bearer not-the-admin-key')).toBe(401);
    expect(await status(withAdminKey, `Bearer ${PROBER_ADMIN_KEY}`)).toBe(200);
    // No admin key and no client key anywhere: the cluster runs open (auth.mode auto), and so does /metrics.
    expect(await status(await fixture.startProber('prober-open', undefined, null))).toBe(200);
    // auth.mode keys: closed even before any key exists.
    const keysMode = await fixture.startProber('prober-keys-mode', (document) => (document.auth = { mode: 'keys' }), null);
    const refused = await fetch(`${keysMode.url}/metrics`);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({
      error: { message: expect.stringContaining('DOSROUTER_ADMIN_KEY'), type: 'authentication_error', param: null, code: 'admin_key_not_configured' },
    });
    // A key created by a gateway of the cluster: a prober started without the admin key keeps /metrics closed.
    const store = new RedisKeyStore(fixture.redis as never, fixture.keys);
    await store.create({ name: 'team-a' }, Date.now());
    expect(await status(await fixture.startProber('prober-after-keys', undefined, null))).toBe(401);
  });
});
