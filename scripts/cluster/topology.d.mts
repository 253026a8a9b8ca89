// Types of topology.mjs, for the TypeScript tests that import it.
import type { NginxConfigOptions } from './nginx-config.mjs';
import type { ManagedProcess, ProcessExit } from './processes.mjs';

export interface ClusterOptions {
  /** The repository root: the replicas run <root>/packages/gateway/dist/main.js, the probers health-prober's. */
  root: string;
  /** Configs, logs and nginx's prefix go here (created if missing). */
  runDirectory: string;
  /** Default 3. */
  replicas?: number;
  /** nginx's listen address and the replicas' HOST. Default 127.0.0.1. */
  host?: string;
  /** nginx's port; 0 (default) picks a free one. */
  port?: number;
  /**
   * Config file (DOSROUTER_CONFIG) of the replicas and the probers. Default: config/cluster.yaml when the simulator is
   * started, else the gateway's own default (the demo config, whose in-process simulators no prober can reach).
   */
  gatewayConfig?: string;
  /**
   * "start": one provider simulator process (packages/provider-sim/dist/main.js, its default models) on a free
   * loopback port, its base URL given to replicas and probers as SIMULATOR_URL (config/cluster.yaml's backends);
   * "none": no simulator. Default: "start" without a gatewayConfig, "none" with one.
   */
  simulator?: 'start' | 'none';
  /**
   * Health-prober processes (packages/health-prober/dist/main.js), each with the cluster's Redis and prefix, the
   * replicas' config, PROBER_HOST=127.0.0.1 and a free PROBER_PORT. Default 0. None in embedded mode: the prober
   * needs Redis (embedded replicas probe in-process).
   */
  prober?: number;
  /** "start" (default): an own redis-server on a free port; { url }: an existing Redis; "none": no Redis. */
  redis?: 'start' | 'none' | { url: string };
  /** DOSROUTER_REDIS_PREFIX for the replicas. */
  redisPrefix?: string;
  /**
   * "on" (default): the replicas get REDIS_URL and share their state; "off": they do not, and run embedded, each with
   * its own in-memory state (the topology without the shared state, e.g. to tell which of the two a problem is in).
   */
  clusterMode?: 'on' | 'off';
  /** Extra environment for every replica and prober (they read the same config). */
  gatewayEnvironment?: Record<string, string>;
  /** Keep every replica's and prober's stdout lines in memory (tests read access logs from them). */
  keepLines?: boolean;
  /** SIGTERM → SIGKILL deadline for replicas; default 35 s (above the gateway's 30 s shutdownGraceMs). */
  stopGraceMs?: number;
  /** Overrides of the generated nginx config's tunables. */
  nginx?: Partial<Omit<NginxConfigOptions, 'target' | 'listen' | 'upstreams'>>;
  /** Called when a child that was ready exits without having been asked to. */
  onUnexpectedExit?: (process: ManagedProcess, exit: ProcessExit) => void;
}

/** A process slot of the topology: started, killed and restarted with a new id on the same port. */
interface Member {
  readonly index: number;
  /** gateway-1 … gateway-N or prober-1 … prober-N; stays with the slot across restarts. */
  readonly name: string;
  /** DOSROUTER_REPLICA_ID / DOSROUTER_PROBER_ID of the current process: the name, then name.2, name.3 after restarts. */
  readonly id: string;
  readonly generation: number;
  readonly port: number;
  readonly url: string;
  readonly process: ManagedProcess;
}

export type Replica = Member;

/** Its `url` is its HTTP server: /healthz, /readyz, /metrics, /admin/queues (with DOSROUTER_ADMIN_KEY). */
export type Prober = Member;

export interface ClusterDescription {
  url: string;
  mode: 'cluster' | 'embedded';
  runDirectory: string;
  /** DOSROUTER_CONFIG of the replicas and probers; undefined: the gateway's default. */
  config: string | undefined;
  nginx: { url: string; pid: number | undefined; config: string; accessLog: string };
  replicas: { name: string; id: string; url: string; pid: number | undefined; running: boolean }[];
  probers: { name: string; id: string; url: string; pid: number | undefined; running: boolean }[];
  /** The simulator's base URL (…/v1), when this topology started one. */
  simulator?: { url: string; pid: number | undefined; running: boolean };
  redis?: { url: string; startedHere: boolean; pid: number | undefined; prefix: string | undefined; usedByReplicas: boolean };
}

export interface Cluster {
  /** nginx's URL: the entry point. */
  readonly url: string;
  readonly mode: 'cluster' | 'embedded';
  readonly runDirectory: string;
  readonly replicas: readonly Replica[];
  /** Every replica process that became ready (restarts included), with the replica id it had. */
  readonly replicaHistory: readonly { readonly name: string; readonly id: string; readonly process: ManagedProcess }[];
  readonly nginx: { readonly process: ManagedProcess; readonly port: number; readonly url: string; readonly configPath: string; readonly accessLogPath: string };
  readonly redis: { readonly url: string; readonly port: number; readonly started: boolean; readonly process: ManagedProcess | undefined } | undefined;
  readonly probers: readonly Prober[];
  /** Every prober process that became ready (restarts included), with the prober id it had. */
  readonly proberHistory: readonly { readonly name: string; readonly id: string; readonly process: ManagedProcess }[];
  /** The simulator this topology started (its base URL, …/v1), if any. */
  readonly simulator: { readonly url: string; readonly process: ManagedProcess } | undefined;
  killReplica(index: number): Promise<ProcessExit | undefined>;
  stopReplica(index: number, options?: { graceMs?: number }): Promise<ProcessExit | undefined>;
  startReplica(index: number): Promise<Replica>;
  restartReplica(index: number, options?: { graceMs?: number }): Promise<ProcessExit | undefined>;
  /** SIGKILL, as in a crash. */
  killProber(index: number): Promise<ProcessExit | undefined>;
  /** SIGTERM: a probe under way finishes, then it exits 0; SIGKILL after `graceMs` (default 15 s). */
  stopProber(index: number, options?: { graceMs?: number }): Promise<ProcessExit | undefined>;
  /** Starts the prober again, on the port it had, with a new id (prober-N.2, …); resolves once /readyz answers 200. */
  startProber(index: number): Promise<Prober>;
  stopRedis(): Promise<void>;
  startRedis(): Promise<void>;
  close(options?: { replicaGraceMs?: number }): Promise<void>;
  describe(): ClusterDescription;
}

export function startCluster(options: ClusterOptions): Promise<Cluster>;
