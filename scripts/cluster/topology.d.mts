// Types of topology.mjs, for the TypeScript tests that import it.
import type { NginxConfigOptions } from './nginx-config.mjs';
import type { ManagedProcess, ProcessExit } from './processes.mjs';

export interface ClusterOptions {
  /** The repository root: the replicas run <root>/packages/gateway/dist/main.js. */
  root: string;
  /** Configs, logs and nginx's prefix go here (created if missing). */
  runDirectory: string;
  /** Default 3. */
  replicas?: number;
  /** nginx's listen address and the replicas' HOST. Default 127.0.0.1. */
  host?: string;
  /** nginx's port; 0 (default) picks a free one. */
  port?: number;
  /** Gateway config file (DOSROUTER_CONFIG); default: the gateway's own default, the demo config. */
  gatewayConfig?: string;
  /** "start" (default): an own redis-server on a free port; { url }: an existing Redis; "none": no Redis. */
  redis?: 'start' | 'none' | { url: string };
  /** DOSROUTER_REDIS_PREFIX for the replicas. */
  redisPrefix?: string;
  /**
   * "on" (default): the replicas get REDIS_URL and share their state; "off": they do not, and run embedded, each with
   * its own in-memory state (the topology without the shared state, e.g. to tell which of the two a problem is in).
   */
  clusterMode?: 'on' | 'off';
  /** Extra environment for every replica. */
  gatewayEnvironment?: Record<string, string>;
  /** Keep every replica's stdout lines in memory (tests read access logs from them). */
  keepLines?: boolean;
  /** SIGTERM → SIGKILL deadline for replicas; default 35 s (above the gateway's 30 s shutdownGraceMs). */
  stopGraceMs?: number;
  /** Overrides of the generated nginx config's tunables. */
  nginx?: Partial<Omit<NginxConfigOptions, 'target' | 'listen' | 'upstreams'>>;
  /** Called when a child that was ready exits without having been asked to. */
  onUnexpectedExit?: (process: ManagedProcess, exit: ProcessExit) => void;
}

export interface Replica {
  readonly index: number;
  /** gateway-1 … gateway-N; stays with the slot across restarts. */
  readonly name: string;
  /** DOSROUTER_REPLICA_ID of the current process: the name, then name.2, name.3 after restarts. */
  readonly id: string;
  readonly generation: number;
  readonly port: number;
  readonly url: string;
  readonly process: ManagedProcess;
}

export interface ClusterDescription {
  url: string;
  mode: 'cluster' | 'embedded';
  runDirectory: string;
  nginx: { url: string; pid: number | undefined; config: string; accessLog: string };
  replicas: { name: string; id: string; url: string; pid: number | undefined; running: boolean }[];
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
  killReplica(index: number): Promise<ProcessExit | undefined>;
  stopReplica(index: number, options?: { graceMs?: number }): Promise<ProcessExit | undefined>;
  startReplica(index: number): Promise<Replica>;
  restartReplica(index: number, options?: { graceMs?: number }): Promise<ProcessExit | undefined>;
  stopRedis(): Promise<void>;
  startRedis(): Promise<void>;
  close(options?: { replicaGraceMs?: number }): Promise<void>;
  describe(): ClusterDescription;
}

export function startCluster(options: ClusterOptions): Promise<Cluster>;
