import type { Socket } from 'node:net';
import { buildConnector, Client, Pool } from 'undici';
import type { BackendHttp2Config, Timeouts } from '@dosrouter/shared';

/**
 * How a backend's connections speak: `http1` one request per connection; `h2c` HTTP/2 without TLS on every
 * connection (prior knowledge); `negotiated` HTTP/2 or HTTP/1.1 per connection, as the server chose in TLS's ALPN.
 */
export type UpstreamProtocol = 'http1' | 'h2c' | 'negotiated';

export interface BackendPool {
  readonly pool: Pool;
  readonly protocol: UpstreamProtocol;
}

/** Which protocol `backends[].http2` gives a backend at `url`. */
export function upstreamProtocolOf(url: URL, http2: BackendHttp2Config): UpstreamProtocol {
  if (http2.mode === 'off') return 'http1';
  if (url.protocol === 'https:') return 'negotiated';
  return http2.mode === 'on' ? 'h2c' : 'http1';
}

/**
 * The keep-alive pool to one backend's origin. It has no cap of its own unless `maxConnections` is set (a pool default
 * must never be a hidden queue; the connection gate in front holds requests past the cap, with a deadline).
 *
 * undici dispatches to a connection only while it has fewer than `pipelining` requests on it, so `pipelining` is how
 * many streams one HTTP/2 connection carries before the pool opens another: `streamsPerConnection` on an HTTP/2
 * connection, 1 on an HTTP/1.1 one (HTTP/1.1 pipelining would hold a request behind another's whole stream). With
 * ALPN the protocol is known only once a connection is up, so each connection starts at 1 and is raised when the
 * server chose h2. Requests must also be sent `idempotent` to share an HTTP/2 connection (`requestOptions`): undici
 * holds a non-idempotent request until the connection is otherwise idle.
 */
export function createBackendPool(
  url: URL,
  http2: BackendHttp2Config,
  maxConnections: number | undefined,
  timeouts: Timeouts,
  /** TLS options of the connections (a test's own certificate authority); the system's CAs otherwise. */
  tls: { readonly ca?: string } = {},
): BackendPool {
  const protocol = upstreamProtocolOf(url, http2);
  const connectTimeout = timeouts.connectMs || undefined;
  const common: Pool.Options = {
    connections: maxConnections ?? null,
    headersTimeout: timeouts.firstByteMs,
    bodyTimeout: timeouts.idleMs,
    keepAliveTimeout: 30_000,
  };
  const streams = http2.streamsPerConnection;
  if (protocol === 'http1') {
    return { protocol, pool: new Pool(url.origin, { ...common, pipelining: 1, connect: { ...tls, timeout: connectTimeout } }) };
  }
  if (protocol === 'h2c') {
    // Pool does not pass `useH2c` to the connector it builds: the connector is built here.
    const connect = buildConnector({ allowH2: true, useH2c: true, ...(connectTimeout ? { timeout: connectTimeout } : {}) } as buildConnector.BuildOptions);
    return { protocol, pool: new Pool(url.origin, { ...common, allowH2: true, maxConcurrentStreams: streams, pipelining: streams, connect }) };
  }
  return {
    protocol,
    pool: new Pool(url.origin, {
      ...common,
      allowH2: true,
      maxConcurrentStreams: streams,
      factory: (origin, options) => negotiatingClient(origin, options as Client.Options, streams, { ...tls, ...(connectTimeout ? { timeout: connectTimeout } : {}) }),
    }),
  };
}

/** A client whose connection is HTTP/2 or HTTP/1.1 as ALPN decides, carrying as many requests as that protocol may. */
function negotiatingClient(origin: string | URL, options: Client.Options, streams: number, connectOptions: buildConnector.BuildOptions): Client {
  const connector = buildConnector({ ...connectOptions, allowH2: true });
  let chosenH2 = false;
  const client = new Client(origin, {
    ...options,
    pipelining: 1,
    connect: (target, callback) =>
      connector(target, (error, socket) => {
        chosenH2 = (socket as (Socket & { alpnProtocol?: string | false }) | null)?.alpnProtocol === 'h2';
        if (error) callback(error, null);
        else callback(null, socket!);
      }),
  });
  client.on('connect', () => {
    client.pipelining = chosenH2 ? streams : 1;
  });
  return client;
}
