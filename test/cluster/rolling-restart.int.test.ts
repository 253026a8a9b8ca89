import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countBy, runLoad, sendCompletion, sendStream } from './support/load.js';
import { eventually, startTestCluster, type TestCluster } from './support/test-cluster.js';

/** A non-streamed answer in about 20 ms. */
const QUICK = { id: 'quick', firstTokenDelayMs: 20, outputTokens: 8 };
/** A stream of 20 words over about 300 ms: in flight when its replica is told to stop. */
const STREAM = { id: 'stream', firstTokenDelayMs: 20, interTokenDelayMs: 15, outputTokens: 20 };

describe('a rolling restart of every replica under load', () => {
  let test: TestCluster;
  beforeAll(async () => {
    test = await startTestCluster({ models: [QUICK, STREAM] });
  });
  afterAll(async () => {
    await test?.close();
  });

  it('drops no request and cuts no stream', async () => {
    const client = test.client();
    let restarted = false;
    const load = runLoad({
      // Bounded twice: by count, and by the end of the restart.
      total: 6_000,
      concurrency: 8,
      until: () => restarted,
      isStream: (index) => index % 4 === 3,
      send: (index, requestId) =>
        index % 4 === 3 ? sendStream(client, STREAM.id, requestId, STREAM.outputTokens) : sendCompletion(client, QUICK.id, requestId),
    });

    const served = (replica: (typeof test.cluster.replicas)[number]): number =>
      replica.process.lines.filter((line) => line.includes('"message":"request"')).length;
    const steps: { replica: string; oldId: string; newId: string; oldExit: unknown; finishedWhileDraining: number; seconds: number }[] = [];
    try {
      await eventually(() => test.cluster.replicas.every((replica) => served(replica) >= 10), 15_000, 'every replica under load');
      for (const replica of test.cluster.replicas) {
        const startedAt = performance.now();
        const oldId = replica.id;
        const oldProcess = replica.process;
        // SIGTERM: the old process drains its requests and streams while a new one takes its port.
        const oldExit = await test.cluster.restartReplica(replica.index, { graceMs: 8_000 });
        // nginx skipped the port while it was closed (max_fails=1, fail_timeout=2s). Before the next replica goes,
        // this one must be back in rotation, so that never more than one replica is out of it.
        await eventually(() => served(replica) > 0, 6_000, `${replica.name} taking traffic again`);
        const draining = oldProcess.lines.findIndex((line) => line.includes('"message":"draining"'));
        steps.push({
          replica: replica.name,
          oldId,
          newId: replica.id,
          oldExit,
          // Requests the old process was serving when told to stop, which it finished before exiting.
          finishedWhileDraining: oldProcess.lines.slice(draining).filter((line) => line.includes('"message":"request"')).length,
          seconds: Math.round(performance.now() - startedAt) / 1000,
        });
      }
    } finally {
      restarted = true;
    }
    const outcomes = await load;

    const ours = new Set(outcomes.map((outcome) => outcome.requestId));
    await eventually(() => test.nginxAccessLog().filter((line) => ours.has(line.requestId)).length === outcomes.length, 15_000, 'an nginx log line per request');
    await eventually(() => test.accessLines().filter((entry) => ours.has(String(entry.line.requestId))).length === outcomes.length, 15_000, 'a replica log line per request');
    const nginxLines = test.nginxAccessLog().filter((line) => ours.has(line.requestId));
    const failures = outcomes.filter((outcome) => !outcome.ok);
    console.info(
      `rolling restart: ${JSON.stringify({
        requests: outcomes.length,
        streams: outcomes.filter((outcome) => outcome.stream).length,
        succeeded: outcomes.length - failures.length,
        failed: failures.length,
        resentByNginx: nginxLines.filter((line) => line.upstream.includes(',')).length,
        answeredBy: countBy(
          test.accessLines().filter((entry) => ours.has(String(entry.line.requestId))),
          (entry) => entry.replicaId,
        ),
        steps,
      })}`,
    );

    expect(failures.slice(0, 5)).toEqual([]);
    expect(outcomes.filter((outcome) => outcome.stream).length).toBeGreaterThan(0);
    // The drains had work to finish: the restarts happened mid-request, not between requests.
    expect(steps.reduce((sum, step) => sum + step.finishedWhileDraining, 0)).toBeGreaterThan(0);
    for (const step of steps) {
      expect(step.oldExit).toEqual({ code: 0, signal: null });
      expect(step.newId).not.toBe(step.oldId);
    }
  });
});
