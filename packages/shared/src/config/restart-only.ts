import type { GatewayConfig } from './schema.js';

/**
 * The settings a running process cannot change, by path: listening sockets and TLS (`server`), the Redis connection
 * and everything built on it (`redis`, `usage`, `storage`, `auth`), the replica's own queue (`saturation`), lease and
 * timeout policies, the access log, tracing (its SDK is started once), the response cache, the stored responses' store and the dashboard (each built once at start), the weights' staleness, the code of `routing.strategyModules`, the prober's own
 * server and worker, and the reload settings themselves. A reload keeps the running values of these and names the
 * ones the file changed; they apply at the next restart.
 */
export const RESTART_ONLY_SETTINGS = [
  'server',
  'redis',
  'storage',
  'auth',
  'usage',
  'saturation',
  'limits.leaseMs',
  'limits.onRedisTimeout',
  'logging.accessLog',
  'telemetry.tracing',
  'cache',
  'responses',
  'dashboard',
  'weights',
  'routing.strategyModules',
  'prober.host',
  'prober.port',
  'prober.embedded',
  'prober.concurrency',
  'config',
] as const;

export interface LiveChanges {
  /** The config to run: the new one, with the running values of the settings that need a restart. */
  readonly config: GatewayConfig;
  /** The restart-only settings the new config changed (and that were kept as they are). */
  readonly ignored: readonly string[];
}

type Tree = Record<string, unknown>;

function valueAt(tree: Tree, path: readonly string[]): unknown {
  let value: unknown = tree;
  for (const key of path) value = value !== null && typeof value === 'object' ? (value as Tree)[key] : undefined;
  return value;
}

/** What a running process can take of `next`: every live setting from it, the restart-only ones from `running`. */
export function liveChanges(running: GatewayConfig, next: GatewayConfig): LiveChanges {
  const config = structuredClone(next) as unknown as Tree;
  const ignored: string[] = [];
  for (const setting of RESTART_ONLY_SETTINGS) {
    const path = setting.split('.');
    const kept = valueAt(running as unknown as Tree, path);
    if (JSON.stringify(kept) === JSON.stringify(valueAt(config, path))) continue;
    ignored.push(setting);
    const parent = valueAt(config, path.slice(0, -1)) as Tree;
    const key = path.at(-1)!;
    if (kept === undefined) delete parent[key];
    else parent[key] = structuredClone(kept);
  }
  return { config: config as unknown as GatewayConfig, ignored };
}
