import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countBy, runLoad, sendCompletion } from './support/load.js';
import { eventually, startTestCluster, type TestCluster } from './support/test-cluster.js';

/** A non-streamed answer in about 20 ms. */
const QUICK = { id: 'quick', firstTokenDelayMs: 20, outputTokens: 8 };
/** A stream of 25 words, 40 ms apart: about a second. */
const SLOW_STREAM = { id: 'slow-stream', firstTokenDelayMs: 20, interTokenDelayMs: 40, outputTokens: 25 };

describe('when a replica is killed (SIGKILL)', () => {
  let test: TestCluster;
  beforeEach(async () => {
    test = await startTestCluster({ models: [QUICK, SLOW_STREAM] });
  });
  afterEach(async () => {
    await test?.close();
  });

  it('loses no request under load: nginx resends the ones that had received nothing', async () => {
    const client = test.client();
    let killed: Promise<unknown> | undefined;
    const outcomes = await runLoad({
      total: 300,
      concurrency: 16,
      send: (_index, requestId) => sendCompletion(client, QUICK.id, requestId),
      onSettled: (settled) => {
        if (settled === 100) killed = test.cluster.killReplica(1);
      },
    });
    await killed;

    const ours = new Set(outcomes.map((outcome) => outcome.requestId));
    await eventually(() => test.nginxAccessLog().filter((line) => ours.has(line.requestId)).length === outcomes.length, 15_000, 'an nginx log line per request');
    const nginxLines = test.nginxAccessLog().filter((line) => ours.has(line.requestId));
    const resent = nginxLines.filter((line) => line.upstream.includes(','));
    const killedPort = `127.0.0.1:${test.cluster.replicas[1]!.port}`;
    const simulator = await test.simulatorStats();
    console.info(
      `kill under load: ${JSON.stringify({
        requests: outcomes.length,
        succeeded: outcomes.filter((outcome) => outcome.ok).length,
        failed: outcomes.filter((outcome) => !outcome.ok).length,
        resentByNginx: resent.length,
        resentFromKilledReplica: resent.filter((line) => line.upstream.startsWith(killedPort)).length,
        backendCalls: simulator.requests,
        backendCallsAborted: simulator.aborted,
        answeredBy: countBy(nginxLines, (line) => line.upstream.split(', ').at(-1)!),
      })}`,
    );

    expect(outcomes.filter((outcome) => !outcome.ok)).toEqual([]);
    // The kill was felt (nginx had to resend), and every resent request had first gone to the killed replica.
    expect(resent.length).toBeGreaterThan(0);
    for (const line of resent) expect(line.upstream.startsWith(killedPort)).toBe(true);
  });

  it('ends the streams it was sending with an error, never as a complete-looking answer; the others finish', async () => {
    const client = test.client();
    const firstChunks: Promise<void>[] = [];
    const streams = Array.from({ length: 6 }, (_, index) => {
      const requestId = `mid-stream-${index}-${randomUUID()}`;
      let gotFirstChunk!: () => void;
      firstChunks.push(new Promise<void>((resolve) => (gotFirstChunk = resolve)));
      return (async () => {
        const { data: stream, response } = await client.chat.completions
          .create({ model: SLOW_STREAM.id, stream: true, messages: [{ role: 'user', content: 'Hello' }] }, { headers: { 'x-request-id': requestId } })
          .withResponse();
        let words = 0;
        let finishReason: string | null | undefined;
        try {
          for await (const chunk of stream) {
            if (chunk.choices[0]?.delta.content) {
              words += 1;
              gotFirstChunk();
            }
            finishReason ??= chunk.choices[0]?.finish_reason;
          }
          return { requestId, replicaHeader: response.headers.get('x-dosrouter-replica'), words, finishReason, error: undefined };
        } catch (error) {
          return { requestId, replicaHeader: response.headers.get('x-dosrouter-replica'), words, finishReason, error: String(error) };
        }
      })();
    });
    // least_conn gives each of the three replicas two of the six streams.
    await Promise.all(firstChunks);
    await test.cluster.killReplica(0);
    const results = await Promise.all(streams);

    const completed = results.filter((result) => result.error === undefined);
    await eventually(() => completed.every((result) => test.replicaOf(result.requestId) !== undefined), 15_000, 'access log lines of the finished streams');
    // The killed replica never logged its streams; in cluster mode the response header also names it.
    const onKilledReplica = (result: (typeof results)[number]): boolean =>
      result.replicaHeader !== null ? result.replicaHeader === test.cluster.replicas[0]!.id : test.replicaOf(result.requestId) === undefined;
    const cut = results.filter(onKilledReplica);
    const others = results.filter((result) => !onKilledReplica(result));
    console.info(`kill mid-stream: ${JSON.stringify(results.map(({ words, finishReason, error }) => ({ words, finishReason, error })))}`);

    expect(cut.length).toBeGreaterThan(0);
    for (const result of cut) {
      expect(result.error).toBeDefined();
      expect(result.words).toBeLessThan(SLOW_STREAM.outputTokens);
      expect(result.finishReason ?? null).toBeNull();
    }
    expect(others.length).toBeGreaterThan(0);
    for (const result of others) expect(result).toMatchObject({ error: undefined, words: SLOW_STREAM.outputTokens, finishReason: 'stop' });
  });
});
