import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad, sendCompletion, sendStream } from './support/load.js';
import { eventually, startTestCluster, type TestCluster } from './support/test-cluster.js';

/** A non-streamed answer in about 20 ms. */
const QUICK = { id: 'quick', firstTokenDelayMs: 20, outputTokens: 8 };
/** A stream of 12 words, 15 ms apart. */
const STREAM = { id: 'stream', firstTokenDelayMs: 10, interTokenDelayMs: 15, outputTokens: 12 };

interface UsageTotals {
  answers: number;
  promptTokens: number;
  completionTokens: number;
}

interface GatewayUsage {
  totals: { requests: number; failed_requests: number; prompt_tokens: number; completion_tokens: number; total_tokens: number; estimated_requests: number };
  pending_records: number;
}

describe('usage accounting across replica processes behind nginx, with a replica killed mid-load', () => {
  let test: TestCluster;
  beforeAll(async () => {
    test = await startTestCluster({
      models: [QUICK, STREAM],
      // The killed replica's consumer may have read records it never counted: claimed by another after 2 s.
      configure: (config) => {
        config.usage = { claimIdleMs: 2_000 };
      },
    });
  });
  afterAll(() => test?.close());

  it('counts every answer a client received; only requests in flight on the killed replica may be missing', async () => {
    const client = test.client();
    let killed: Promise<unknown> | undefined;
    // A third plain answers, a third streams that ask for usage, a third streams that do not.
    const outcomes = await runLoad({
      total: 300,
      concurrency: 16,
      isStream: (index) => index % 3 !== 0,
      send: (index, requestId) =>
        index % 3 === 0
          ? sendCompletion(client, QUICK.id, requestId)
          : sendStream(client, STREAM.id, requestId, STREAM.outputTokens, { includeUsage: index % 3 === 1 }),
      onSettled: (settled) => {
        if (settled === 100) killed = test.cluster.killReplica(1);
      },
    });
    await killed;

    // The gateways' totals, once every record is counted (the killed consumer's pending ones claimed by another).
    let usage: GatewayUsage | undefined;
    await eventually(
      async () => {
        const response = await fetch(`${test.url}/v1/usage`);
        usage = (await response.json()) as GatewayUsage;
        return response.ok && usage.pending_records === 0;
      },
      20_000,
      'every usage record counted',
    );
    const simulatorOrigin = new URL(test.simulatorUrl).origin;
    const reported = (await (await fetch(`${simulatorOrigin}/_sim/usage`)).json()) as { requests: Record<string, UsageTotals> };
    const stats = await test.simulatorStats() as unknown as { usage: UsageTotals };
    const tokens = (entry: UsageTotals) => entry.promptTokens + entry.completionTokens;

    // What every answer a client received completely cost, from the backend's own ledger (a request nginx resent
    // was answered twice by the backend, the same each time).
    const received = outcomes.filter((outcome) => outcome.ok);
    let receivedTokens = 0;
    let largestRequest = 0;
    for (const outcome of received) {
      const entry = reported.requests[outcome.requestId];
      expect(entry, outcome.requestId).toBeDefined();
      const one = tokens(entry!) / entry!.answers;
      receivedTokens += one;
      largestRequest = Math.max(largestRequest, one);
    }
    const counted = usage!.totals.total_tokens;
    const backendTotal = tokens(stats.usage);
    console.info(
      `usage with a replica killed: ${JSON.stringify({
        requests: outcomes.length,
        receivedComplete: received.length,
        failed: outcomes.length - received.length,
        records: usage!.totals.requests,
        countedTokens: counted,
        tokensOfReceivedAnswers: receivedTokens,
        backendReportedTokens: backendTotal,
        backendAnswers: stats.usage.answers,
      })}`,
    );

    // Nothing a client received is missing, and nothing is counted that the backend did not report.
    expect(counted).toBeGreaterThanOrEqual(receivedTokens);
    expect(counted).toBeLessThanOrEqual(backendTotal);
    // What the backend reported beyond that was in flight on the killed replica: at most one request per client.
    expect(backendTotal - receivedTokens).toBeLessThanOrEqual(16 * largestRequest);
    expect(usage!.totals.requests).toBeGreaterThanOrEqual(received.length);
    expect(usage!.totals.estimated_requests).toBe(0);
  });
});
