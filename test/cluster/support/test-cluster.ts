import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { ManagedProcess } from '../../../scripts/cluster/processes.mjs';
import { startCluster, type Cluster, type ClusterOptions } from '../../../scripts/cluster/topology.mjs';
import { redisCli } from './processes.js';
import { recordTestSecret } from '../../../packages/shared/src/test-support/log-archive.js';
import type { SimulatedModel } from '@dosrouter/provider-sim';

export { eventually } from '../../../packages/shared/src/test-support/eventually.js';

export const REPOSITORY = fileURLToPath(new URL('../../../', import.meta.url));
const SIMULATOR_MAIN = join(REPOSITORY, 'packages', 'provider-sim', 'dist', 'main.js');
const SIMULATOR_KEY = 'sk-cluster-test-backend';
recordTestSecret(SIMULATOR_KEY);

/** The shared Redis of this machine and CI; tests that use it own a random prefix and delete their keys. */
export const SHARED_REDIS_PORT = 6379;
export const SHARED_REDIS_URL = `redis://127.0.0.1:${SHARED_REDIS_PORT}`;

// A test worker that dies mid-test leaves no gateway, nginx or redis-server behind: every ManagedProcess is registered
// with the run (scripts/cluster/process-registry.mjs, test/support/child-processes.*).

/** A model of the provider simulator process; the gateway serves it under the same name. */
export type { SimulatedModel };

export interface TestClusterOptions {
  models: SimulatedModel[];
  replicas?: number;
  /** "own" (default): a redis-server for this test alone, which it may stop; "shared": 127.0.0.1:6379, own prefix. */
  redis?: 'own' | 'shared';
  /** Default: DOSROUTER_TEST_CLUSTER_MODE, else "on". "off" runs the replicas embedded, to test the topology alone. */
  clusterMode?: ClusterOptions['clusterMode'];
  /**
   * Health-prober processes (default 0), with the test's gateway config, Redis and prefix; `cluster.probers`,
   * killProber, stopProber and startProber reach them. None when the replicas run embedded (the prober needs Redis).
   * They probe the simulator, which counts the probes' requests: set `prober.probe` through `configure`.
   */
  probers?: number;
  /** Changes to the generated gateway config document before it is written. */
  configure?: (config: Record<string, unknown>) => void;
  nginx?: ClusterOptions['nginx'];
  /** Extra environment for every replica and prober (e.g. DOSROUTER_ADMIN_KEY). */
  gatewayEnvironment?: ClusterOptions['gatewayEnvironment'];
  onUnexpectedExit?: ClusterOptions['onUnexpectedExit'];
}

/** One line of nginx's JSON access log (deploy/nginx/nginx.conf's `dosrouter` format). */
export interface NginxLogLine {
  requestId: string;
  method: string;
  uri: string;
  status: number;
  /** Every replica tried, comma-separated: two entries mean nginx resent the request to a second replica. */
  upstream: string;
  upstreamStatus: string;
}

export interface SimulatorStats {
  requests: number;
  completed: number;
  aborted: number;
  faults: Record<string, number>;
}

export interface TestCluster {
  readonly cluster: Cluster;
  /** nginx's URL. */
  readonly url: string;
  readonly redisPrefix: string;
  /** The simulator's base URL (…/v1) and its control API origin. */
  readonly simulatorUrl: string;
  /** An official OpenAI client pointed at nginx, SDK retries off: every failure is seen. */
  client(options?: { timeoutMs?: number }): OpenAI;
  /** The replica name (gateway-N) that answered a request id, from the replicas' access logs. */
  replicaOf(requestId: string): string | undefined;
  /** Every replica's access log lines ("message":"request"), by replica name; restarted replicas included. */
  accessLines(): { replica: string; replicaId: string; line: Record<string, unknown> }[];
  nginxAccessLog(): NginxLogLine[];
  simulatorStats(): Promise<SimulatorStats>;
  /** Queues faults in the simulator (see packages/provider-sim/README.md). */
  injectFaults(faults: Record<string, unknown>[]): Promise<void>;
  /** The pid of every process this test cluster started (simulator, replicas and probers including replaced ones, nginx, redis). */
  pids(): number[];
  /** Stops everything and removes the run directory; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts the provider simulator as a process, a gateway config whose one backend is that simulator, and the cluster
 * topology of scripts/cluster.mjs with it: redis-server, N gateway processes from the built dist, nginx.
 */
export async function startTestCluster(options: TestClusterOptions): Promise<TestCluster> {
  const runDirectory = mkdtempSync(join(tmpdir(), 'dosrouter-cluster-'));
  const redisPrefix = `test-cluster-${randomBytes(6).toString('hex')}`;
  const redisMode = options.redis ?? 'own';
  let simulator: ManagedProcess | undefined;
  let cluster: Cluster | undefined;
  let closing: Promise<void> | undefined;

  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await cluster?.close({ replicaGraceMs: 5_000 });
      await simulator?.stop({ signal: 'SIGTERM', timeoutMs: 5_000 });
      if (cluster?.mode === 'cluster' && redisMode === 'shared') await deleteSharedRedisKeys(redisPrefix);
      rmSync(runDirectory, { recursive: true, force: true });
    })());

  try {
    simulator = startSimulatorProcess(runDirectory, options.models);
    const listening = await simulator.waitForLine((line) => line.includes('provider simulator listening'), 15_000);
    simulator.ready = true;
    const simulatorUrl = (JSON.parse(listening) as { url: string }).url;
    const gatewayConfig = writeGatewayConfig(runDirectory, simulatorUrl, options);
    cluster = await startCluster({
      root: REPOSITORY,
      runDirectory,
      replicas: options.replicas ?? 3,
      prober: options.probers ?? 0,
      gatewayConfig,
      // The simulator is this harness's own, with the test's models.
      simulator: 'none',
      redis: redisMode === 'own' ? 'start' : { url: SHARED_REDIS_URL },
      redisPrefix,
      clusterMode: options.clusterMode ?? clusterModeFromEnvironment(),
      keepLines: true,
      stopGraceMs: 10_000,
      ...(options.nginx === undefined ? {} : { nginx: options.nginx }),
      ...(options.gatewayEnvironment === undefined ? {} : { gatewayEnvironment: options.gatewayEnvironment }),
      ...(options.onUnexpectedExit === undefined ? {} : { onUnexpectedExit: options.onUnexpectedExit }),
    });
    const started = cluster;
    const simulatorOrigin = new URL(simulatorUrl).origin;

    const accessLines: TestCluster['accessLines'] = () =>
      started.replicaHistory.flatMap(({ name, id, process }) =>
        process.lines
          .filter((text) => text.includes('"message":"request"'))
          .map((text) => ({ replica: name, replicaId: id, line: JSON.parse(text) as Record<string, unknown> })),
      );

    return {
      cluster: started,
      url: started.url,
      redisPrefix,
      simulatorUrl,
      client: ({ timeoutMs = 20_000 } = {}) =>
        new OpenAI({ apiKey: 'client-key-not-forwarded', baseURL: `${started.url}/v1`, maxRetries: 0, timeout: timeoutMs }),
      replicaOf: (requestId) => accessLines().find((entry) => entry.line.requestId === requestId)?.replica,
      accessLines,
      nginxAccessLog: () => {
        const path = started.nginx.accessLogPath;
        if (!existsSync(path)) return [];
        return readFileSync(path, 'utf8')
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line) => JSON.parse(line) as NginxLogLine);
      },
      simulatorStats: async () => (await (await fetch(`${simulatorOrigin}/_sim/stats`)).json()) as SimulatorStats,
      injectFaults: async (faults) => {
        const response = await fetch(`${simulatorOrigin}/_sim/faults`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(faults),
        });
        if (!response.ok) throw new Error(`simulator refused the faults: ${response.status} ${await response.text()}`);
      },
      pids: () =>
        [
          simulator,
          ...started.replicaHistory.map((entry) => entry.process),
          ...started.proberHistory.map((entry) => entry.process),
          started.nginx.process,
          started.redis?.process,
        ]
          .map((managed) => managed?.pid)
          .filter((pid): pid is number => pid !== undefined),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

function clusterModeFromEnvironment(): ClusterOptions['clusterMode'] {
  const mode = process.env.DOSROUTER_TEST_CLUSTER_MODE ?? 'on';
  if (mode !== 'on' && mode !== 'off') throw new Error(`DOSROUTER_TEST_CLUSTER_MODE must be on or off, got "${mode}"`);
  return mode;
}

function startSimulatorProcess(runDirectory: string, models: SimulatedModel[]): ManagedProcess {
  // JSON is YAML: the simulator and the gateway read these files with their YAML loaders.
  const configPath = join(runDirectory, 'simulator.yaml');
  writeFileSync(configPath, JSON.stringify({ apiKey: SIMULATOR_KEY, models }, null, 2));
  return new ManagedProcess({
    name: 'simulator',
    command: process.execPath,
    args: [SIMULATOR_MAIN, '--port', '0', '--config', configPath],
    environment: process.env,
    cwd: REPOSITORY,
    logFile: join(runDirectory, 'simulator.log'),
  });
}

function writeGatewayConfig(runDirectory: string, simulatorUrl: string, options: TestClusterOptions): string {
  const document: Record<string, unknown> = {
    // Drains in tests finish in well under a second; a stuck one should not hold a test for 30 s.
    server: { shutdownGraceMs: 8_000 },
    logging: { level: 'info' },
    // Embedded replicas (DOSROUTER_TEST_CLUSTER_MODE=off) would probe the shared simulator and skew its counts.
    prober: { embedded: false },
    backends: [
      {
        name: 'sim',
        baseUrl: simulatorUrl,
        apiKey: SIMULATOR_KEY,
        models: options.models.map((model) => ({ name: model.id, capabilities: ['streaming'] })),
      },
    ],
  };
  options.configure?.(document);
  const path = join(runDirectory, 'gateway.yaml');
  writeFileSync(path, JSON.stringify(document, null, 2));
  return path;
}

/** Deletes this test's keys from the shared Redis with redis-cli (SCAN, never FLUSHDB). */
async function deleteSharedRedisKeys(prefix: string): Promise<void> {
  const keys = await redisCli(SHARED_REDIS_PORT, '--scan', '--pattern', `${prefix}:*`);
  for (let start = 0; start < keys.length; start += 500) await redisCli(SHARED_REDIS_PORT, 'UNLINK', ...keys.slice(start, start + 500));
}
