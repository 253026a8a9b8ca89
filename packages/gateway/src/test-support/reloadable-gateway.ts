import { createLogger, type GatewayConfig } from '@dosrouter/shared';
import { startGateway, type RunningGateway } from '../gateway.js';
import { LogCapture } from './harness.js';

/**
 * An in-process gateway on 127.0.0.1, port 0, started on `config()` and reloading whatever `config()` returns then
 * (`reloadConfig`); warnings and errors go to a LogCapture.
 */
export function startReloadableGateway(config: () => GatewayConfig): Promise<RunningGateway> {
  return startGateway({
    config: config(),
    logger: createLogger({ level: 'warn', service: 'gateway', destination: new LogCapture() }),
    port: 0,
    host: '127.0.0.1',
    loadConfig: config,
  });
}
