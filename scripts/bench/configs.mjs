import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The simulator's answer length; 16 tokens is a short chat reply and keeps the run about the gateway, not bytes. */
export const OUTPUT_TOKENS = 16;

/**
 * A per-key limit far above anything this machine can send (a few thousand requests and about a million tokens a
 * minute), so that it never refuses, yet every request makes its admission round trip to Redis.
 */
export const UNREACHABLE_PER_KEY_LIMITS = Object.freeze({ requestsPerMinute: 100_000_000, tokensPerMinute: 100_000_000_000 });

/** Authorization of the load's requests; the gateway ignores it unless limits.perKey is set, then it names the key. */
export const DEFAULT_AUTHORIZATION = 'Bearer sk-bench';

export function writeSimulatorConfig(directory) {
  const path = join(directory, 'simulator.yaml');
  const lines = [
    'host: 127.0.0.1',
    'apiKey: sk-bench',
    'models:',
    '  - id: bench-model',
    '    headersDelayMs: 0',
    '    firstTokenDelayMs: 0',
    '    interTokenDelayMs: 0',
    `    outputTokens: ${OUTPUT_TOKENS}`,
  ];
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/**
 * One backend, the access log on as in production. The same file serves embedded mode and every cluster replica
 * (cluster mode comes from REDIS_URL, set by the topology); `perKeyLimits` adds `limits.perKey`.
 * Returns the path and the text, which the result document keeps.
 */
export function writeGatewayConfig(directory, simulatorUrl, { perKeyLimits } = {}) {
  mkdirSync(directory, { recursive: true });
  const path = join(directory, 'gateway.yaml');
  const lines = [
    'server: { host: 127.0.0.1, port: 0 }',
    'logging: { level: info, accessLog: true }',
    'backends:',
    '  - name: sim',
    `    baseUrl: ${simulatorUrl}`,
    '    apiKey: sk-bench',
    '    models:',
    '      - name: bench-model',
    '        capabilities: [streaming]',
  ];
  if (perKeyLimits !== undefined) {
    lines.push('limits:', `  perKey: { requestsPerMinute: ${perKeyLimits.requestsPerMinute}, tokensPerMinute: ${perKeyLimits.tokensPerMinute} }`);
  }
  const text = `${lines.join('\n')}\n`;
  writeFileSync(path, text);
  return { path, text };
}
