import { fileURLToPath } from 'node:url';
import { ConfigError, configForMain, createLogger, flushLogger, holdReloadSignal, loadProcessConfig, parseEntryArguments, startReloadTriggers } from '@dosrouter/shared';
import { startProber } from './prober.js';

/** The same default as the gateway's: one config file serves both. */
const DEMO_CONFIG = fileURLToPath(new URL('../../../config/demo.yaml', import.meta.url));

const USAGE = `usage: node packages/health-prober/dist/main.js [options]

Runs a DOSRouter health prober (cluster mode: needs Redis): probes every deployment of the config on its schedule and
publishes the routing weights the gateways use. /healthz, /readyz, /metrics and the queue UI (/admin/queues) on
PROBER_PORT (default: the config's prober.port, 9091).

  -c, --config FILE   the config, the same file as the gateways' (default: DOSROUTER_CONFIG, else config/demo.yaml)
  -h, --help          this text

Environment: REDIS_URL (required unless the config names a Redis), DOSROUTER_REDIS_PREFIX, DOSROUTER_CONFIG,
PROBER_PORT, PROBER_HOST, DOSROUTER_PROBER_ID, DOSROUTER_ADMIN_KEY or DOSROUTER_ADMIN_KEY_FILE (turns on the queue UI).

Signals: SIGHUP reloads the config (also on a file change with config.watch: true); SIGTERM or SIGINT stops.`;

function fail(message: string): never {
  process.stderr.write(`dosrouter-prober: ${message}\n`);
  process.exit(1);
}

function portFromEnvironment(): number | undefined {
  const text = process.env.PROBER_PORT;
  if (text === undefined) return undefined;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) fail(`PROBER_PORT must be a port number, got "${text}"`);
  return port;
}

async function main(): Promise<void> {
  // Before anything slow: a SIGHUP during startup (Node's default: exit) is held and replayed once the process is up.
  const held = holdReloadSignal();
  let entry;
  try {
    entry = parseEntryArguments(process.argv.slice(2));
  } catch (error) {
    fail(`${(error as ConfigError).message}\n${USAGE}`);
  }
  if (entry.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const { config, configPath, adminKey } = configForMain('dosrouter-prober', DEMO_CONFIG, entry.configPath);
  const logger = createLogger({ level: config.logging.level, service: 'prober' });
  let prober;
  try {
    prober = await startProber({
      config,
      logger,
      port: portFromEnvironment(),
      host: process.env.PROBER_HOST,
      adminKey,
      // A reload reads the file as the start did: interpolation, `*_FILE` secrets, environment overrides.
      loadConfig: () => loadProcessConfig(DEMO_CONFIG, configPath).config,
    });
  } catch (error) {
    await flushLogger(logger);
    fail(error instanceof Error ? error.message : String(error));
  }
  logger.info('prober listening', { url: prober.url, prober: prober.id, config: configPath, revision: prober.info.configRevision });
  const running = prober;
  const stopReloading = startReloadTriggers({ path: configPath, settings: config.config, reload: (trigger) => running.reloadConfig(trigger), logger, held });

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    stopReloading();
    logger.info('stopping', { signal });
    let code = 0;
    try {
      await prober.close();
      logger.info('stopped');
    } catch (error) {
      code = 1;
      logger.error('could not stop cleanly', { error: (error as Error).message });
    }
    await flushLogger(logger);
    process.exit(code);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => fail(`failed to start: ${error instanceof Error ? error.message : String(error)}`));
