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
 * (cluster mode comes from REDIS_URL, set by the topology); `perKeyLimits` adds `limits.perKey`. The stream scenarios
 * pass their `models` (each `{ name, contextWindow? }`) and `maxConnections`. Returns the path and the text, which
 * the result document keeps.
 */
export function writeGatewayConfig(directory, simulatorUrl, { perKeyLimits, models = [{ name: 'bench-model' }], maxConnections, http2 } = {}) {
  mkdirSync(directory, { recursive: true });
  const path = join(directory, 'gateway.yaml');
  const lines = [
    'server: { host: 127.0.0.1, port: 0 }',
    'logging: { level: info, accessLog: true }',
    'backends:',
    '  - name: sim',
    `    baseUrl: ${simulatorUrl}`,
    '    apiKey: sk-bench',
    ...(maxConnections === undefined ? [] : [`    maxConnections: ${maxConnections}`]),
    ...(http2 === undefined ? [] : [`    http2: { mode: ${http2} }`]),
    '    models:',
    ...models.flatMap((model) => [
      `      - name: ${model.name}`,
      ...(model.contextWindow === undefined ? [] : [`        contextWindow: ${model.contextWindow}`]),
      '        capabilities: [streaming]',
    ]),
  ];
  if (perKeyLimits !== undefined) {
    const fields = Object.entries(perKeyLimits).map(([name, value]) => `${name}: ${value}`);
    lines.push('limits:', `  perKey: { ${fields.join(', ')} }`);
  }
  const text = `${lines.join('\n')}\n`;
  writeFileSync(path, text);
  return { path, text };
}

/**
 * Upstream connections the stream gateway may open to its backend: above the largest stream count, so that the
 * connection pool (backends[].maxConnections, default 256, which also caps concurrent upstream requests) is not the
 * limit being measured.
 */
export const STREAM_MAX_CONNECTIONS = 20_000;

/** Room for the longest stream --duration may ask for, on the simulator's model and the gateway's deployment. */
const STREAM_CONTEXT_WINDOW = 10_000_000;

/** The simulator model that streams `eventsPerSecond` content events a second. */
export function streamModelName(eventsPerSecond) {
  return `stream-${eventsPerSecond}-per-second`;
}

/**
 * One model per event rate: no delay before the first event, then one content event every 1000 / rate ms. Answers
 * are as long as the request's max_tokens (the model's own length is far above any stream the benchmark asks for).
 */
export function writeStreamSimulatorConfig(directory, rates, { tls } = {}) {
  const path = join(directory, 'simulator.yaml');
  // h2c next to HTTP/1.1 on the same port, for the gateway-h2 target; direct and nginx speak HTTP/1.1 to it. With
  // `tls` ({ certFile, keyFile }): HTTPS, ALPN offering h2 and http/1.1 (the gateway-tls targets).
  const lines = ['host: 127.0.0.1', 'apiKey: sk-bench', 'http2: true', ...(tls ? [`tls: { certFile: ${tls.certFile}, keyFile: ${tls.keyFile} }`] : []), 'models:'];
  for (const rate of rates) {
    lines.push(`  - id: ${streamModelName(rate)}`, `    interTokenDelayMs: ${1000 / rate}`, '    outputTokens: 100000', `    contextWindow: ${STREAM_CONTEXT_WINDOW}`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/**
 * The gateway of the stream scenarios: embedded mode, access log on, the stream simulator as its one backend with
 * STREAM_MAX_CONNECTIONS. `perKeyConcurrency` adds limits.perKey.concurrency (the burst scenario).
 */
export function writeStreamGatewayConfig(directory, simulatorUrl, rates, { perKeyConcurrency, http2 } = {}) {
  return writeGatewayConfig(directory, simulatorUrl, {
    models: rates.map((rate) => ({ name: streamModelName(rate), contextWindow: STREAM_CONTEXT_WINDOW })),
    maxConnections: STREAM_MAX_CONNECTIONS,
    perKeyLimits: perKeyConcurrency === undefined ? undefined : { concurrency: perKeyConcurrency },
    http2,
  });
}
