import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from './load.js';
import type { GatewayConfig } from './schema.js';

/** Where a gateway started from its entry point keeps embedded mode's keys and usage when nothing else is set. */
export const DEFAULT_DATA_DIR = './data';

/**
 * REDIS_URL and DOSROUTER_REDIS_PREFIX override the file, so that one config serves every replica, the prober and
 * every test; DOSROUTER_DATA_DIR sets storage.dataDir, which is otherwise `./data` unless the file sets it (or sets it
 * to null). Throws ConfigError naming the variable when one is malformed.
 */
export function withEnvironmentOverrides(config: GatewayConfig, environment: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const url = environment.REDIS_URL;
  const keyPrefix = environment.DOSROUTER_REDIS_PREFIX;
  if (url && !/^rediss?:\/\//.test(url)) throw new ConfigError(`REDIS_URL must start with redis:// or rediss://, got "${url}"`);
  if (keyPrefix && !/^[A-Za-z0-9._-]+$/.test(keyPrefix)) throw new ConfigError(`DOSROUTER_REDIS_PREFIX may use letters, digits, . _ and -, got "${keyPrefix}"`);
  const dataDir = environment.DOSROUTER_DATA_DIR || (config.storage.dataDir === undefined ? DEFAULT_DATA_DIR : config.storage.dataDir);
  return {
    ...config,
    redis: { ...config.redis, ...(url ? { url } : {}), ...(keyPrefix ? { keyPrefix } : {}) },
    storage: { ...config.storage, dataDir },
  };
}

/** Whether the config names a Redis (URL, Sentinel or Cluster): cluster mode. Without one, a gateway runs embedded. */
export function hasRedis(config: GatewayConfig): boolean {
  return Boolean(config.redis.url || config.redis.sentinels?.length || config.redis.clusterNodes?.length);
}

/**
 * The config a process starts with: `--config FILE` (or `-c`), else DOSROUTER_CONFIG, else `defaultPath`, with the
 * environment's overrides applied. Throws ConfigError naming the field or variable that is wrong.
 */
export function configFromCommandLine(
  defaultPath: string,
  argv: readonly string[] = process.argv.slice(2),
  environment: NodeJS.ProcessEnv = process.env,
): { config: GatewayConfig; configPath: string } {
  const { values } = parseArgs({ args: [...argv], options: { config: { type: 'string', short: 'c' } } });
  const configPath = values.config ?? environment.DOSROUTER_CONFIG ?? defaultPath;
  return { config: withEnvironmentOverrides(loadConfigFile(configPath), environment), configPath };
}

/** `configFromCommandLine` for a process's main: a config problem is one line on stderr and exit code 1. */
export function configForMain(program: string, defaultPath: string): { config: GatewayConfig; configPath: string } {
  try {
    return configFromCommandLine(defaultPath);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${program}: ${error.message}\n`);
    process.exit(1);
  }
}
