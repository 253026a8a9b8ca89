import { Pool } from 'undici';
import { backendHeaders, type BackendConfig, type Timeouts } from '@dosrouter/shared';

/** The OpenAI operations the gateway forwards, by their path below the backend's base URL. */
export type Operation = 'chat/completions' | 'completions' | 'embeddings' | 'models';

/**
 * One upstream backend: a keep-alive connection pool to its origin, the headers every request carries
 * (credential included) and its deadlines. The credential lives only here; it is never logged.
 */
export class Backend {
  readonly name: string;
  /** The OpenAI-compatible base URL requests go to (a simulator's address for a `simulator:` backend). */
  readonly baseUrl: string;
  readonly timeouts: Timeouts;
  /** Ask this backend for stream usage (`stream_options.include_usage`) even when the client did not. */
  readonly requestStreamUsage: boolean;
  readonly pool: Pool;
  /** Headers sent on every request to this backend; per-request headers are added to a copy. */
  readonly baseHeaders: Readonly<Record<string, string>>;
  private readonly basePath: string;
  private readonly querySuffix: string;

  constructor(config: BackendConfig, baseUrl: string, defaultTimeouts: Timeouts) {
    this.name = config.name;
    this.baseUrl = baseUrl;
    this.timeouts = { ...defaultTimeouts, ...config.timeouts };
    this.requestStreamUsage = config.requestStreamUsage;
    const url = new URL(baseUrl);
    this.basePath = url.pathname.replace(/\/+$/, '');
    const query = new URLSearchParams(url.search);
    for (const [key, value] of Object.entries(config.query)) query.set(key, value);
    this.querySuffix = query.size > 0 ? `?${query.toString()}` : '';
    this.baseHeaders = backendHeaders(config);
    this.pool = new Pool(url.origin, {
      connections: config.maxConnections,
      pipelining: 1,
      connect: { timeout: this.timeouts.connectMs || undefined },
      headersTimeout: this.timeouts.firstByteMs,
      bodyTimeout: this.timeouts.idleMs,
      keepAliveTimeout: 30_000,
    });
  }

  path(operation: Operation): string {
    return `${this.basePath}/${operation}${this.querySuffix}`;
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  destroy(): Promise<void> {
    return this.pool.destroy();
  }
}
