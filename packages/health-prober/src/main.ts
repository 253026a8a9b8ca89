import { fileURLToPath } from 'node:url';
import { configForMain, createLogger, flushLogger } from '@dosrouter/shared';
import { startProber } from './prober.js';

/** The same default as the gateway's: one config file serves both. */
const DEMO_CONFIG = fileURLToPath(new URL('../../../config/demo.yaml', import.meta.url));

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
  const { config, configPath } = configForMain('dosrouter-prober', DEMO_CONFIG);
  const logger = createLogger({ level: config.logging.level, service: 'prober' });
  let prober;
  try {
    prober = await startProber({
      config,
      logger,
      port: portFromEnvironment(),
      host: process.env.PROBER_HOST,
      adminKey: process.env.DOSROUTER_ADMIN_KEY || undefined,
    });
  } catch (error) {
    await flushLogger(logger);
    fail(error instanceof Error ? error.message : String(error));
  }
  logger.info('prober listening', { url: prober.url, prober: prober.id, config: configPath });

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
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
