import { ConfigError, loadProcessConfig, ModelCatalog, Router } from '@dosrouter/shared';
import { loadStrategies } from '../routing/strategy-modules.js';
import { formatConfigSummary, summarizeConfig } from './config-summary.js';

export interface ConfigCheckOptions {
  /** Shown before an error, e.g. `dosrouter`. */
  readonly program: string;
  /** `--config`; unset: DOSROUTER_CONFIG, else `defaultPath`. */
  readonly configPath?: string;
  readonly defaultPath: string;
  /** Print the summary (or the problems) as one JSON document on stdout, for jq. */
  readonly json: boolean;
  readonly environment?: NodeJS.ProcessEnv;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/**
 * `dosrouter check` and the gateway's `--check`: loads the config as a gateway would (environment overrides, admin
 * key, strategy modules), builds its model catalog and router — which resolves every model, alias, group, rule and
 * virtual model — and prints a summary. Starts nothing: no server, no Redis connection, no probe. Returns the exit
 * code: 0 when the config is valid, 1 otherwise, with every problem printed.
 */
export async function runConfigCheck(options: ConfigCheckOptions): Promise<number> {
  const environment = options.environment ?? process.env;
  try {
    const loaded = loadProcessConfig(options.defaultPath, options.configPath, environment);
    const { strategyModules } = loaded.config.routing;
    const registry = await loadStrategies(strategyModules, []);
    // With strategy modules, the strategy names could only be checked once the modules had loaded.
    const { config, configPath } =
      strategyModules.length === 0 ? loaded : loadProcessConfig(options.defaultPath, options.configPath, environment, { strategyNames: registry.names() });
    const catalog = new ModelCatalog(config);
    const router = new Router(catalog, config.routing, registry);
    const summary = summarizeConfig(configPath, config, catalog, router.profiles);
    options.stdout(`${options.json ? JSON.stringify({ valid: true, ...summary }, null, 2) : formatConfigSummary(summary)}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    const problems = error instanceof ConfigError && error.problems.length > 0 ? error.problems : [error.message];
    if (options.json) options.stdout(`${JSON.stringify({ valid: false, problems }, null, 2)}\n`);
    options.stderr(`${options.program}: ${error.message}\n`);
    return 1;
  }
}
