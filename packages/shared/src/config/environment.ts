import { parseArgs } from 'node:util';
import { adminKeyFromEnvironment } from './admin-key.js';
import { ConfigError, loadConfigFile, type ParseOptions } from './load.js';
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

export interface EntryArguments<Flag extends string> {
  /** `--config FILE` / `-c FILE`, when given. */
  readonly configPath?: string;
  /** `--help` / `-h`. */
  readonly help: boolean;
  /** The boolean flags given, of those the entry point takes. */
  readonly flags: ReadonlySet<Flag>;
}

/**
 * An entry point's command line: `--config FILE` (`-c`), `--help` (`-h`) and the entry point's own boolean flags.
 * Throws ConfigError naming an unknown flag or a stray argument.
 */
export function parseEntryArguments<Flag extends string>(argv: readonly string[], booleanFlags: readonly Flag[] = []): EntryArguments<Flag> {
  const options = {
    config: { type: 'string', short: 'c' },
    help: { type: 'boolean', short: 'h' },
    ...Object.fromEntries(booleanFlags.map((flag) => [flag, { type: 'boolean' }])),
  } as const;
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new ConfigError((error as Error).message, { cause: error });
  }
  return {
    ...(typeof values.config === 'string' ? { configPath: values.config } : {}),
    help: values.help === true,
    flags: new Set(booleanFlags.filter((flag) => values[flag] === true)),
  };
}

export interface ProcessConfig {
  readonly config: GatewayConfig;
  readonly configPath: string;
  /** DOSROUTER_ADMIN_KEY or the file DOSROUTER_ADMIN_KEY_FILE names; undefined when neither is set. */
  readonly adminKey?: string;
}

/**
 * What a process starts with: the config at `configPath`, else DOSROUTER_CONFIG, else `defaultPath`, with the
 * environment's overrides applied, and the admin key. Throws ConfigError naming the field or variable that is wrong.
 */
export function loadProcessConfig(
  defaultPath: string,
  configPath: string | undefined,
  environment: NodeJS.ProcessEnv = process.env,
  options: ParseOptions = {},
): ProcessConfig {
  const path = configPath ?? (environment.DOSROUTER_CONFIG || defaultPath);
  const config = withEnvironmentOverrides(loadConfigFile(path, environment, options), environment);
  const adminKey = adminKeyFromEnvironment(environment);
  return { config, configPath: path, ...(adminKey === undefined ? {} : { adminKey }) };
}

/** `loadProcessConfig` for a process's main: a config problem goes to stderr, and the process exits with code 1. */
export function configForMain(program: string, defaultPath: string, configPath?: string): ProcessConfig {
  try {
    return loadProcessConfig(defaultPath, configPath);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${program}: ${error.message}\n`);
    process.exit(1);
  }
}
