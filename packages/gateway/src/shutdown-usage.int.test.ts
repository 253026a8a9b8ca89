import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@dosrouter/provider-sim';
import { recordTestSecret } from '../../shared/src/test-support/log-archive.js';
import { TEST_REDIS_URL } from '../../shared/src/test-support/redis.js';
import { startClusterHarness, type ClusterHarness } from './test-support/cluster-harness.js';
import { SIMULATOR_KEY, eventually } from './test-support/harness.js';

const ADMIN_KEY = 'sk-admin-shutdown-test-0001';
const MODEL = 'slow-stream';

/**
 * A replica shut down with streams still running cuts them after its grace period. Their handlers settle what the
 * cut streams used after the connections are gone: the replica waits for them before it closes its usage
 * recorder and its Redis connection, so the records reach the cluster instead of being written to a closed one.
 */
describe('shutting down a replica with a stream in flight (cluster mode, Redis)', () => {
  let cluster: ClusterHarness;
  let simulator: Simulator;
  beforeAll(async () => {
    // 200 tokens, one every 50 ms: the stream is still running when the replica is told to stop.
    simulator = await startSimulator({ models: [{ id: MODEL, outputTokens: 200, interTokenDelayMs: 50 }], apiKey: SIMULATOR_KEY });
    cluster = await startClusterHarness({
      replicas: 2,
      redisUrl: TEST_REDIS_URL,
      adminKey: ADMIN_KEY,
      document: {
        logging: { level: 'info' },
        prober: { embedded: false },
        // The stopping replica's consumer may have read the record last: the survivor claims it after a second.
        usage: { claimIdleMs: 1_000 },
        backends: [{ name: 'sim', baseUrl: simulator.baseUrl, apiKey: SIMULATOR_KEY, models: [{ name: MODEL, capabilities: ['streaming'] }] }],
      },
    });
  });
  afterAll(async () => {
    await cluster?.close();
    await simulator?.close();
  });

  it('writes the cut stream’s usage record before the replica lets go of Redis', async () => {
    const [stopping, surviving] = cluster.gateways;
    const created = await fetch(`${stopping!.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'shutdown' }),
    }).then((response) => response.json() as Promise<{ id: string; secret: string }>);
    recordTestSecret(created.secret);

    const response = await fetch(`${stopping!.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${created.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'a long story' }] }),
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let received = '';
    while (!received.includes('"content":"')) received += decoder.decode((await reader.read()).value);
    // A grace of 0: the stream is cut at once.
    await stopping!.close(0);
    await reader.cancel().catch(() => undefined);

    let totals: { requests: number; failed_requests: number; completion_tokens: number; estimated_requests: number } | undefined;
    await eventually(async () => {
      const answer = await fetch(`${surviving!.url}/admin/usage?key=${created.id}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      const body = (await answer.json()) as { totals: NonNullable<typeof totals>; pending_records: number };
      totals = body.totals;
      return body.pending_records === 0 && body.totals.requests === 1;
    }, 15_000);
    // The cut stream is recorded as failed, with the tokens it had streamed counted by the gateway.
    expect(totals).toMatchObject({ requests: 1, failed_requests: 1, estimated_requests: 1 });
    expect(totals!.completion_tokens).toBeGreaterThan(0);
    const dropped = await stopping!.metrics.registry.getSingleMetric('dosrouter_usage_records_total')?.get();
    expect(dropped?.values.find((value) => value.labels.result === 'dropped')?.value ?? 0).toBe(0);
  });
});
