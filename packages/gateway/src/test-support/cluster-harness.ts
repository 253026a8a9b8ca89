import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { configSchema, createLogger, type GatewayConfig } from '@dosrouter/shared';
import { deletePrefixAt } from '../../../shared/src/test-support/redis.js';
import { recordTestSecret } from '../../../shared/src/test-support/log-archive.js';
import { startGateway, type RunningGateway } from '../gateway.js';
import { LogCapture } from './harness.js';

export interface ClusterHarness {
  readonly prefix: string;
  readonly gateways: RunningGateway[];
  readonly logs: LogCapture[];
  client(replica: number, options?: { apiKey?: string; maxRetries?: number }): OpenAI;
  close(): Promise<void>;
}

/**
 * N gateways in this process, each with its own replica id, sharing one Redis under a key prefix of the
 * test's own: cluster mode without the process and nginx plumbing (test/cluster covers that).
 */
export async function startClusterHarness(options: {
  replicas: number;
  redisUrl: string;
  document: Record<string, unknown>;
  /** The key prefix to share, e.g. with a prober the test runs; default: one of the harness's own. */
  prefix?: string;
  /** Enables the admin API (and with it, API keys) on every replica. */
  adminKey?: string;
}): Promise<ClusterHarness> {
  const prefix = options.prefix ?? `test-cluster-${randomBytes(4).toString('hex')}`;
  const document = structuredClone(options.document);
  document.redis = { ...(document.redis as object | undefined), url: options.redisUrl, keyPrefix: prefix };
  const config: GatewayConfig = configSchema.parse(document);
  if (options.adminKey) recordTestSecret(options.adminKey);
  const gateways: RunningGateway[] = [];
  const logs: LogCapture[] = [];
  for (let index = 0; index < options.replicas; index += 1) {
    const capture = new LogCapture();
    logs.push(capture);
    const logger = createLogger({ level: 'info', service: 'gateway', destination: capture });
    gateways.push(
      await startGateway({ config, logger, port: 0, host: '127.0.0.1', replica: `replica-${index + 1}`, ...(options.adminKey ? { adminKey: options.adminKey } : {}) }),
    );
  }
  return {
    prefix,
    gateways,
    logs,
    client: (replica, { apiKey = 'client-key-1', maxRetries = 0 } = {}) =>
      new OpenAI({ apiKey, baseURL: `${gateways[replica]!.url}/v1`, maxRetries, timeout: 20_000 }),
    close: async () => {
      await Promise.all(gateways.map((gateway) => gateway.close(1_000)));
      await deletePrefixAt(options.redisUrl, prefix);
    },
  };
}
