import { ANTHROPIC_VERSION } from './backend-kind.js';
import type { BackendConfig } from './schema.js';

export const USER_AGENT = 'dosrouter/0.1';

/**
 * The headers every request to a backend carries: a `kind: anthropic` backend's `anthropic-version`, its configured
 * headers (names lower-cased; they may override that version) and its credential in the configured header. The
 * gateway and the prober both send them; the result holds a secret, so never log it.
 */
export function backendHeaders(config: Pick<BackendConfig, 'headers' | 'apiKey' | 'apiKeyHeader'> & Partial<Pick<BackendConfig, 'kind'>>): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': USER_AGENT };
  if (config.kind === 'anthropic') headers['anthropic-version'] = ANTHROPIC_VERSION;
  for (const [name, value] of Object.entries(config.headers)) headers[name.toLowerCase()] = value;
  if (config.apiKey) {
    headers[config.apiKeyHeader] = config.apiKeyHeader === 'authorization' ? `Bearer ${config.apiKey}` : config.apiKey;
  }
  return headers;
}
