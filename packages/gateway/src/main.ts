import { fileURLToPath } from 'node:url';
import { configForMain, createLogger, flushLogger } from '@dosrouter/shared';
import { startGateway } from './gateway.js';

/** The demo config: simulated backends, so that a first `pnpm start` answers with nothing else installed. */
const DEMO_CONFIG = fileURLToPath(new URL('../../../config/demo.yaml', import.meta.url));

async function main(): Promise<void> {
  const { config, configPath } = configForMain('dosrouter', DEMO_CONFIG);
  const port = process.env.PORT === undefined ? undefined : Number(process.env.PORT);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    process.stderr.write(`dosrouter: PORT must be a port number, got "${process.env.PORT}"\n`);
    process.exit(1);
  }
  const logger = createLogger({ level: config.logging.level, service: 'gateway' });
  const gateway = await startGateway({ config, logger, port, host: process.env.HOST });
  logger.info('gateway listening', {
    url: gateway.url,
    mode: gateway.cluster.mode,
    replica: gateway.cluster.replica,
    config: configPath,
    models: config.backends.flatMap((backend) => backend.models.map((model) => model.name)),
  });

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info('draining', { signal, graceMs: config.server.shutdownGraceMs });
    const finished = await gateway.close();
    logger.info('stopped', { drainedCleanly: finished });
    await flushLogger(logger);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`dosrouter: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
