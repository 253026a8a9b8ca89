import { fileURLToPath } from 'node:url';
import { ConfigError, configForMain, createLogger, flushLogger, holdReloadSignal, loadProcessConfig, parseEntryArguments, startReloadTriggers } from '@dosrouter/shared';
import { runConfigCheck } from './check/config-check.js';
import { startGateway } from './gateway.js';

/** The demo config: simulated backends, so that a first `pnpm start` answers with nothing else installed. */
const DEMO_CONFIG = fileURLToPath(new URL('../../../config/demo.yaml', import.meta.url));

const USAGE = `usage: node packages/gateway/dist/main.js [options]        (or: pnpm start, which builds first)

Runs a DOSRouter gateway: the OpenAI-compatible API on PORT (default: the config's server.port, 8080).

  -c, --config FILE   the config (default: DOSROUTER_CONFIG, else config/demo.yaml)
  --check             validate the config, resolve every model, alias, group, rule and virtual model, print a
                      summary and exit: 0 valid, 1 not. Starts nothing (no server, no Redis, no probe).
  --json              with --check: the summary, or the problems, as one JSON document on stdout
  -h, --help          this text

Environment: PORT, HOST, DOSROUTER_CONFIG, REDIS_URL (cluster mode; unset: embedded), DOSROUTER_REDIS_PREFIX,
DOSROUTER_ADMIN_KEY or DOSROUTER_ADMIN_KEY_FILE (a file holding it, e.g. /run/secrets/admin_key), DOSROUTER_REPLICA_ID.

Signals: SIGHUP reloads the config (also on a file change with config.watch: true); SIGTERM or SIGINT drains and stops.`;

function fail(message: string): never {
  process.stderr.write(`dosrouter: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  // Before anything slow: a SIGHUP during startup (Node's default: exit) is held and replayed once the process is up.
  const held = holdReloadSignal();
  let entry;
  try {
    entry = parseEntryArguments(process.argv.slice(2), ['check', 'json']);
  } catch (error) {
    fail(`${(error as ConfigError).message}\n${USAGE}`);
  }
  if (entry.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (entry.flags.has('check')) {
    process.exit(
      await runConfigCheck({
        program: 'dosrouter',
        configPath: entry.configPath,
        defaultPath: DEMO_CONFIG,
        json: entry.flags.has('json'),
        stdout: (text) => process.stdout.write(text),
        stderr: (text) => process.stderr.write(text),
      }),
    );
  }
  const { config, configPath, adminKey } = configForMain('dosrouter', DEMO_CONFIG, entry.configPath);
  const port = process.env.PORT === undefined ? undefined : Number(process.env.PORT);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) fail(`PORT must be a port number, got "${process.env.PORT}"`);
  const logger = createLogger({ level: config.logging.level, service: 'gateway' });
  const gateway = await startGateway({
    config,
    logger,
    port,
    host: process.env.HOST,
    ...(adminKey === undefined ? {} : { adminKey }),
    // A reload reads the file as the start did: interpolation, `*_FILE` secrets, environment overrides.
    loadConfig: () => loadProcessConfig(DEMO_CONFIG, configPath).config,
  });
  logger.info('gateway listening', {
    url: gateway.url,
    mode: gateway.cluster.mode,
    replica: gateway.cluster.replica,
    config: configPath,
    revision: gateway.cluster.replicas.own.configRevision,
    models: config.backends.flatMap((backend) => backend.models.map((model) => model.name)),
  });

  const stopReloading = startReloadTriggers({ path: configPath, settings: config.config, reload: (trigger) => gateway.reloadConfig(trigger), logger, held });

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    stopReloading();
    logger.info('draining', { signal, graceMs: config.server.shutdownGraceMs });
    const finished = await gateway.close();
    logger.info('stopped', { drainedCleanly: finished });
    await flushLogger(logger);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => fail(`failed to start: ${error instanceof Error ? error.message : String(error)}`));
