import { Writable } from 'node:stream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  EMPTY_SNAPSHOT,
  MemoryUsageLedger,
  ModelCatalog,
  Router,
  StrategyRegistry,
  configSchema,
  createLogger,
  type UsageRecord,
} from '@dosrouter/shared';
import { seededRandom } from '../../../shared/src/test-support/seeded-random.js';
import { InFlightTracker } from '../lifecycle/in-flight.js';
import { ConfigSnapshot } from '../reload/config-snapshot.js';
import { LiveConfig } from '../reload/live-config.js';
import { AccessLog } from '../telemetry/access-log.js';
import { GatewayMetrics } from '../telemetry/metrics.js';
import { UsageRecorder } from '../usage/usage-recorder.js';
import { RequestContext } from './request-context.js';

const config = configSchema.parse({
  backends: [{ name: 'b', baseUrl: 'http://127.0.0.1:1/v1', models: [{ name: 'm', pricing: { inputPerMTok: 1, outputPerMTok: 2 } }] }],
});
const live = new LiveConfig(await ConfigSnapshot.build(config, []));
afterAll(() => live.close());
const catalog = new ModelCatalog(config);
const router = new Router(catalog, config.routing, new StrategyRegistry());
const deployment = catalog.deployments()[0]!;
const proxied = { model: 'm', stream: true, includeUsage: false, body: { model: 'm', messages: [{ role: 'user', content: 'Hi' }] } };
const plan = router.plan(
  { operation: 'chat/completions', path: '/v1/chat/completions', model: 'm', body: proxied.body, stream: true, headers: {} },
  { snapshot: EMPTY_SNAPSHOT, random: seededRandom(1) },
);
const silent = createLogger({ level: 'error', service: 'test', destination: new Writable({ write: (_chunk, _encoding, callback) => callback() }) });

/** A context wired to real sinks: the usage recorder (memory ledger), the metrics and an access log into memory. */
function setUp() {
  const records: UsageRecord[] = [];
  const accessLines: Record<string, unknown>[] = [];
  const metrics = new GatewayMetrics();
  let now = 1_000;
  const usage = new UsageRecorder({
    ledger: new MemoryUsageLedger(),
    metrics,
    logger: silent,
    commitTimeoutMs: 250,
    spoolLimit: 100,
    inMemory: true,
    onRecord: (record) => records.push(record),
  });
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') accessLines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const handlers = new InFlightTracker();
  const accessLog = new AccessLog(destination, 'gateway');
  const sinks = {
    handlers,
    metrics,
    accessLog,
    usage,
    config: live,
    replica: 'replica-1',
    clock: () => (now += 5),
  };
  const context = new RequestContext(sinks, 'request-1', '/v1/chat/completions', 'POST');
  const requestsCounted = async (): Promise<number> => {
    const metric = await metrics.registry.getSingleMetric('dosrouter_requests_total')?.get();
    return (metric?.values ?? []).reduce((sum, value) => sum + value.value, 0);
  };
  // The access log writes its lines a few milliseconds later, or when flushed (as at shutdown); the usage record's
  // write settles within a turn of the event loop.
  const flushed = (): Promise<void> =>
    new Promise((resolve) =>
      setImmediate(() => {
        accessLog.flush();
        resolve();
      }),
    );
  return { context, records, accessLines, usage, requestsCounted, flushed, handlers };
}

/** A forwarded request up to its first attempt. */
function forwarded(context: RequestContext): void {
  context.handlerStarted();
  context.validated('chat/completions', proxied, 'key-1');
  context.planned(plan);
  context.attemptStarted(deployment);
}

describe('RequestContext', () => {
  let recorder: UsageRecorder | undefined;
  afterEach(async () => recorder?.close());

  describe('when an answer completes', () => {
    it('writes the usage record once, before the end, and the access line and metrics once when the response closes', async () => {
      const { context, records, accessLines, usage, requestsCounted, flushed } = setUp();
      recorder = usage;
      forwarded(context);
      context.firstToken();
      context.usageSettled({ promptTokens: 10, completionTokens: 20, totalTokens: 30 }, false);
      context.upstreamEnded();
      await context.commitAnswer(200);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ status: 200, promptTokens: 10, completionTokens: 20, estimated: false, keyId: 'key-1', attempts: 1 });
      expect(records[0]!.costUsd).toBeCloseTo((10 * 1 + 20 * 2) / 1e6, 12);
      context.responseClosed(true, 200);
      context.handlerFinished();
      context.responseClosed(true, 200);
      await flushed();
      expect(records).toHaveLength(1);
      expect(accessLines).toHaveLength(1);
      expect(accessLines[0]).toMatchObject({ status: 200, deployment: 'b/m', attempts: 1 });
      expect(await requestsCounted()).toBe(1);
    });

    it('keeps the committed record when the client leaves after it', async () => {
      const { context, records, usage, flushed } = setUp();
      recorder = usage;
      forwarded(context);
      context.usageSettled({ promptTokens: 1, completionTokens: 1, totalTokens: 2 }, false);
      await context.commitAnswer(200);
      context.responseClosed(false, 200);
      context.handlerFinished();
      await flushed();
      expect(records.map((record) => record.status)).toEqual([200]);
    });
  });

  describe("when a stream's first token goes to the client", () => {
    it('calls the release the handler registered, once', () => {
      const { context } = setUp();
      forwarded(context);
      let released = 0;
      context.onAnswerStarted(() => (released += 1));
      expect(released).toBe(0);
      context.firstToken();
      context.firstToken();
      expect(released).toBe(1);
    });
  });

  describe('when an attempt waited for a connection to its backend', () => {
    it('starts its upstream time after the wait: the rolling stats judge the backend on its own time only', () => {
      const { context } = setUp();
      forwarded(context);
      const sent = context.outcome.upstreamStartedAt!;
      context.connectionWaited(900);
      expect(context.outcome.connectionWaitMs).toBe(900);
      expect(context.outcome.upstreamStartedAt).toBeGreaterThan(sent);
      context.upstreamEnded();
      // The clock ticks 5 ms a reading: the backend's time is the one tick after the wait, not the wait.
      expect(context.outcome.upstreamEndedAt! - context.outcome.upstreamStartedAt!).toBe(5);
    });
  });

  describe('when the client leaves while the handler still settles the attempt', () => {
    it('writes the record once the handler is done, with the usage it settled and the status 499', async () => {
      const { context, records, accessLines, usage, flushed } = setUp();
      recorder = usage;
      forwarded(context);
      context.firstToken();
      context.responseClosed(false, 200);
      await flushed();
      expect(records).toHaveLength(0);
      expect(accessLines).toMatchObject([{ status: 499, errorCode: 'client_closed' }]);
      context.usageSettled({ promptTokens: 3, completionTokens: 7, totalTokens: 10 }, true);
      context.settleCost();
      context.handlerFinished();
      context.handlerFinished();
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ status: 499, errorCode: 'client_closed', completionTokens: 7, estimated: true });
    });
  });

  describe('when every attempt fails', () => {
    it('records the error the client received once, after the handler threw and the response closed', async () => {
      const { context, records, usage } = setUp();
      recorder = usage;
      forwarded(context);
      context.attemptStarted(deployment);
      context.failed('upstream_unreachable');
      context.handlerFinished();
      expect(records).toHaveLength(0);
      context.responseClosed(true, 502);
      context.responseClosed(true, 502);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ status: 502, errorCode: 'upstream_unreachable', attempts: 2, costUsd: 0 });
    });
  });

  describe('when the request was refused before it was validated', () => {
    it('writes the access line and metrics but no usage record', async () => {
      const { context, records, accessLines, usage, requestsCounted, flushed } = setUp();
      recorder = usage;
      context.handlerStarted();
      context.failed('invalid_json');
      context.handlerFinished();
      context.responseClosed(true, 400);
      await flushed();
      expect(records).toHaveLength(0);
      expect(accessLines).toMatchObject([{ status: 400, errorCode: 'invalid_json' }]);
      expect(await requestsCounted()).toBe(1);
    });
  });

  describe('when a new attempt starts', () => {
    it('forgets what the previous attempt learnt of its answer', () => {
      const { context, usage } = setUp();
      recorder = usage;
      forwarded(context);
      context.firstToken();
      context.usageSettled({ promptTokens: 1, completionTokens: 1, totalTokens: 2 }, true);
      context.settleCost();
      context.attemptStarted(deployment);
      expect(context.outcome).toMatchObject({ attempts: 2, firstTokenAt: undefined, usage: undefined, usageEstimated: undefined, costUsd: undefined });
      expect(context.costSettled).toBe(false);
    });
  });

  describe('when the gateway shuts down', () => {
    it('counts its handler at work until it finished, once, so that a shutdown can wait for its usage record', async () => {
      const { context, records, usage, handlers } = setUp();
      recorder = usage;
      forwarded(context);
      context.handlerStarted();
      expect(handlers.count).toBe(1);
      context.responseClosed(false, 200);
      const idle = handlers.whenIdle(10_000);
      context.handlerFinished();
      context.handlerFinished();
      expect(await idle).toBe(true);
      expect(handlers.count).toBe(0);
      // By the time the shutdown's wait is over, the record is with the recorder.
      expect(records).toHaveLength(1);
    });
  });
});
