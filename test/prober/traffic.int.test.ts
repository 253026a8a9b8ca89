// The prober and the gateways together, in this process over the shared Redis: what the prober publishes is what
// traffic does. (test/cluster/prober-process.int.test.ts runs the same topology as separate processes.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type OpenAI from 'openai';
import { startClusterHarness, type ClusterHarness } from '../../packages/gateway/src/test-support/cluster-harness.js';
import { MODEL, startProberFixture, waitFor, type ProberFixture } from '../../packages/health-prober/src/test-support/prober-fixture.js';
import { TEST_REDIS_URL } from '../../packages/shared/src/test-support/redis.js';

const messages = [{ role: 'user' as const, content: 'hi' }];

async function servedBy(client: OpenAI): Promise<string> {
  const { response } = await client.chat.completions.create({ model: MODEL, messages }).withResponse();
  return response.headers.get('x-dosrouter-deployment') ?? '';
}

describe('traffic follows the prober’s weights', () => {
  // Each step of the recovery ramp lasts an interval: long enough for requests of every step even on a busy machine.
  const intervalMs = 800;
  let fixture: ProberFixture;
  let cluster: ClusterHarness;

  beforeAll(async () => {
    fixture = await startProberFixture({ intervalMs });
    cluster = await startClusterHarness({ replicas: 2, redisUrl: TEST_REDIS_URL, document: fixture.document(), prefix: fixture.prefix });
    await fixture.startProber('prober-1');
  });
  afterAll(async () => {
    await cluster?.close();
    await fixture?.close();
  });

  it('moves traffic off a deployment that starts failing within two probe intervals, and brings it back gradually', async () => {
    const clients = [cluster.client(0), cluster.client(1)];
    const served = new Set<string>();
    for (let index = 0; index < 30; index += 1) served.add(await servedBy(clients[index % 2]!));
    expect(served).toEqual(new Set(['a/chat-model', 'b/chat-model']));

    const failingSince = Date.now();
    fixture.simulators.b.setOutage({ mode: 'error', status: 503 });
    await waitFor(() => fixture.readDocument(), (document) => document?.weights['b/chat-model'] === 0, 15_000, 'b drained');
    // The replicas apply the announced table at once (pub/sub), at the latest on their next poll (1 s).
    await waitFor(() => cluster.gateways.every((gateway) => gateway.cluster.snapshot().weights.get('b/chat-model') === 0), (applied) => applied, 10_000, 'b at 0 on both replicas');
    const movedAfterMs = Date.now() - failingSince;
    const chatRequestsToB = (): number => fixture.simulators.b.recentRequests().filter((request) => request.path === '/v1/chat/completions').length;
    const toBBefore = chatRequestsToB();
    for (let index = 0; index < 40; index += 1) expect(await servedBy(clients[index % 2]!)).toBe('a/chat-model');
    expect(chatRequestsToB()).toBe(toBBefore);
    // Two intervals, plus probing, publishing and applying, with room for a busy machine.
    expect(movedAfterMs).toBeLessThanOrEqual(2 * intervalMs + 3_000);

    // Recovery: requests sent one after another, each filed under b's weight as last announced when it was sent.
    const announcedFrom = fixture.announced.length;
    fixture.simulators.b.setOutage(undefined);
    const byWeight = new Map<number, { total: number; toB: number }>();
    let healthySince: number | undefined;
    const deadline = Date.now() + 40_000;
    while (Date.now() < deadline && (healthySince === undefined || Date.now() - healthySince < 2 * intervalMs)) {
      const latest = fixture.announced.slice(announcedFrom).at(-1);
      const weight = latest?.weights['b/chat-model'] ?? 0;
      if (healthySince === undefined && latest?.health?.['b/chat-model']?.state === 'healthy') healthySince = Date.now();
      const deployment = await servedBy(clients[byWeight.size % 2]!);
      const bucket = byWeight.get(weight) ?? { total: 0, toB: 0 };
      bucket.total += 1;
      if (deployment === 'b/chat-model') bucket.toB += 1;
      byWeight.set(weight, bucket);
    }
    expect(healthySince).toBeDefined();
    expect([...byWeight.keys()].sort()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    const share = (weight: number): number => byWeight.get(weight)!.toB / byWeight.get(weight)!.total;
    // Weight 0: nothing (a request or two may straddle the announcement); then b's share climbs towards w / (1 + w).
    expect(byWeight.get(0)!.toB).toBeLessThanOrEqual(2);
    for (const weight of [0.25, 0.5, 0.75, 1]) {
      // Judged on 200 requests or more: 0.15 is then over four standard deviations of a fair split's share.
      if (byWeight.get(weight)!.total >= 200) expect(Math.abs(share(weight) - weight / (1 + weight))).toBeLessThanOrEqual(0.15);
    }
    expect(share(0.25)).toBeLessThan(share(1));
  }, 60_000);
});
