import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startSimulator, type Simulator } from '@dosrouter/provider-sim';
import { configSchema, createLogger, parseWeightsDocument, RedisKeys, type GatewayConfig, type Logger, type WeightsDocument } from '@dosrouter/shared';
import { deletePrefixAt, TEST_REDIS_URL } from '../../../shared/src/test-support/redis.js';
import { startProber, type RunningProber } from '../prober.js';
import { PROBE_QUEUE_NAME } from '../worker/probe-queue.js';

export const MODEL = 'chat-model';
export const BACKEND_KEY = 'sk-prober-test-backend';
/** The admin key probers of the fixture start with (unless told otherwise); /metrics needs it. */
export const PROBER_ADMIN_KEY = 'admin-key-for-tests';

/** Two simulators, `a` and `b`, each serving MODEL: the deployments `a/chat-model` and `b/chat-model`. */
export interface ProberFixture {
  readonly prefix: string;
  readonly keys: RedisKeys;
  readonly simulators: { readonly a: Simulator; readonly b: Simulator };
  /** The config document (before validation), for variations. */
  document(overrides?: (document: Record<string, unknown>) => void): Record<string, unknown>;
  config(overrides?: (document: Record<string, unknown>) => void): GatewayConfig;
  /** Starts a prober in this process on this fixture's prefix, with PROBER_ADMIN_KEY unless given another (or none); stopped by close(). */
  startProber(id: string, overrides?: (document: Record<string, unknown>) => void, adminKey?: string | null): Promise<RunningProber>;
  /** Every weights document announced on pub/sub since the fixture started, oldest first. */
  readonly announced: WeightsDocument[];
  readDocument(): Promise<WeightsDocument | undefined>;
  /** A plain connection on the shared Redis, for reading keys as an operator would. */
  readonly redis: Redis;
  close(): Promise<void>;
}

export async function startProberFixture(options: { intervalMs: number; timeoutMs?: number; recomputeIntervalMs?: number }): Promise<ProberFixture> {
  const prefix = `test-prober-${randomBytes(4).toString('hex')}`;
  const keys = new RedisKeys(prefix);
  const simulators = {
    a: await startSimulator({ models: [{ id: MODEL }], apiKey: BACKEND_KEY }),
    b: await startSimulator({ models: [{ id: MODEL }], apiKey: BACKEND_KEY }),
  };
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true });
  const subscriber = new Redis(TEST_REDIS_URL, { lazyConnect: true });
  await redis.connect();
  await subscriber.connect();
  const announced: WeightsDocument[] = [];
  subscriber.on('message', (_channel: string, message: string) => {
    const document = parseWeightsDocument(message);
    if (document) announced.push(document);
  });
  await subscriber.subscribe(keys.weightsChannel());
  const probers: RunningProber[] = [];
  const logger: Logger = createLogger({ level: 'warn', service: 'prober', destination: process.stderr });

  const document = (overrides?: (document: Record<string, unknown>) => void): Record<string, unknown> => {
    const value: Record<string, unknown> = {
      logging: { level: 'warn' },
      redis: { url: TEST_REDIS_URL, keyPrefix: prefix },
      prober: {
        // Generous: a healthy probe that times out on a busy CI machine would count as a failure.
        probe: { intervalMs: options.intervalMs, timeoutMs: options.timeoutMs ?? Math.min(1_000, options.intervalMs - 50) },
        recomputeIntervalMs: options.recomputeIntervalMs ?? 5_000,
      },
      weights: { staleAfterMs: 60_000 },
      backends: [
        { name: 'a', baseUrl: simulators.a.baseUrl, apiKey: BACKEND_KEY, models: [{ name: MODEL }] },
        { name: 'b', baseUrl: simulators.b.baseUrl, apiKey: BACKEND_KEY, models: [{ name: MODEL }] },
      ],
    };
    overrides?.(value);
    return value;
  };
  const config = (overrides?: (document: Record<string, unknown>) => void): GatewayConfig => configSchema.parse(document(overrides));

  return {
    prefix,
    keys,
    simulators,
    document,
    config,
    announced,
    redis,
    startProber: async (id, overrides, adminKey = PROBER_ADMIN_KEY) => {
      const prober = await startProber({ config: config(overrides), logger, proberId: id, port: 0, host: '127.0.0.1', ...(adminKey === null ? {} : { adminKey }) });
      probers.push(prober);
      return prober;
    },
    readDocument: async () => {
      const text = await redis.get(keys.weightsDocument());
      return text === null ? undefined : parseWeightsDocument(text);
    },
    close: async () => {
      await Promise.all(probers.map((prober) => prober.close()));
      subscriber.disconnect();
      redis.disconnect();
      await Promise.all([simulators.a.close(), simulators.b.close()]);
      await deletePrefixAt(TEST_REDIS_URL, prefix);
    },
  };
}

/** The prober's /metrics text, scraped with the fixture's admin key. */
export async function scrapeMetrics(prober: RunningProber): Promise<string> {
  const response = await fetch(`${prober.url}/metrics`, { headers: { authorization: `Bearer ${PROBER_ADMIN_KEY}` } });
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return response.text();
}

/** GET /v1/models requests a simulator received: the models probes it answered. */
export function modelListRequests(simulator: Simulator): number {
  return simulator.recentRequests().filter((request) => request.method === 'GET' && request.path === '/v1/models').length;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitFor<T>(read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(value)})`);
    await delay(20);
  }
}

/** The probe queue's job schedulers, id → interval, as bull-board would list them. */
export async function schedulers(current: ProberFixture): Promise<Record<string, number | undefined>> {
  const connection = current.redis.duplicate();
  const queue = new Queue(PROBE_QUEUE_NAME, { connection, prefix: current.keys.queuePrefix() });
  try {
    const list = await queue.getJobSchedulers(0, -1);
    return Object.fromEntries(list.map((scheduler) => [scheduler.id ?? scheduler.key, scheduler.every]));
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
