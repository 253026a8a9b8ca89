import type { Pool } from 'undici';
import { backendHeaders, operationPath, type BackendApi, type BackendConfig, type BackendKind, type BackendOperation, type Timeouts } from '@dosrouter/shared';
import { createBackendPool, type UpstreamProtocol } from './backend-pool.js';
import { ConnectionGate } from './connection-gate.js';

/** The OpenAI operations the gateway forwards, by their path below an OpenAI base URL. */
export type Operation = 'chat/completions' | 'completions' | 'embeddings' | 'models';

/**
 * One upstream backend: a keep-alive connection pool to its origin, the headers every request carries
 * (credential included) and its deadlines. The credential lives only here; it is never logged.
 */
export class Backend {
  readonly name: string;
  /** The protocol it speaks (`backends[].kind`). */
  readonly kind: BackendKind;
  /** The API a `kind: openai` backend generates with (`backends[].api`): Chat Completions or Responses. */
  readonly api: BackendApi;
  /** The base URL requests go to (a simulator's address for a `simulator:` backend). */
  readonly baseUrl: string;
  readonly timeouts: Timeouts;
  /** Ask this backend for stream usage (`stream_options.include_usage`) even when the client did not. */
  readonly requestStreamUsage: boolean;
  readonly pool: Pool;
  /** HTTP/1.1, h2c, or per connection as ALPN chose (`backends[].http2`). */
  readonly protocol: UpstreamProtocol;
  /**
   * Sent with every request: `idempotent` lets requests share an HTTP/2 connection (undici would otherwise hold each
   * until the connection is idle); a gateway request is never retried by undici itself, so nothing is sent twice.
   */
  readonly requestOptions: { readonly idempotent: boolean };
  /** Present when `maxConnections` caps this backend: requests past the cap wait here, not in the pool. */
  readonly gate: ConnectionGate | undefined;
  /** Headers sent on every request to this backend; per-request headers are added to a copy. */
  readonly baseHeaders: Readonly<Record<string, string>>;
  private readonly basePath: string;
  private readonly querySuffix: string;

  constructor(config: BackendConfig, baseUrl: string, defaultTimeouts: Timeouts, clock: () => number = performance.now.bind(performance)) {
    this.name = config.name;
    this.kind = config.kind;
    this.api = config.api;
    this.baseUrl = baseUrl;
    this.timeouts = { ...defaultTimeouts, ...config.timeouts };
    this.requestStreamUsage = config.requestStreamUsage;
    const url = new URL(baseUrl);
    this.basePath = url.pathname.replace(/\/+$/, '');
    const query = new URLSearchParams(url.search);
    for (const [key, value] of Object.entries(config.query)) query.set(key, value);
    this.querySuffix = query.size > 0 ? `?${query.toString()}` : '';
    this.baseHeaders = backendHeaders(config);
    this.gate = config.maxConnections === undefined ? undefined : new ConnectionGate(config.maxConnections, clock);
    const { pool, protocol } = createBackendPool(url, config.http2, config.maxConnections, this.timeouts);
    this.pool = pool;
    this.protocol = protocol;
    this.requestOptions = { idempotent: protocol !== 'http1' };
  }

  /**
   * The request path of an operation this backend serves natively (Gemini's name the backend's `model`); throws for
   * one its kind does not speak.
   */
  path(operation: BackendOperation, model?: string): string {
    const path = operationPath(this.kind, operation, model);
    if (path === undefined) throw new Error(`a ${this.kind} backend (${this.name}) does not serve ${operation}`);
    // The operation's own query (Gemini's `alt=sse`) comes first, the configured one after it.
    const query = path.includes('?') && this.querySuffix !== '' ? `&${this.querySuffix.slice(1)}` : this.querySuffix;
    return `${this.basePath}/${path}${query}`;
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  destroy(): Promise<void> {
    return this.pool.destroy();
  }
}
