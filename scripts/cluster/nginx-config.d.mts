// Types of nginx-config.mjs, for the TypeScript tests that import it.
export interface NginxTunables {
  bodyLimitBytes: number;
  readTimeoutSeconds: number;
  connectTimeoutSeconds: number;
  failTimeoutSeconds: number;
  tries: number;
  upstreamKeepalive: number;
  upstreamKeepaliveTimeoutSeconds: number;
  workerShutdownTimeoutSeconds: number;
  largeHeaderBufferBytes: number;
  workerConnections: number;
  workerRlimitNofile: number | undefined;
  dockerResolver: string;
  dockerResolverValidSeconds: number;
}

export interface NginxConfigOptions extends Partial<NginxTunables> {
  /** "local": pnpm cluster and the tests (run directory as prefix); "docker": docker-compose.yml. */
  target: 'local' | 'docker';
  /** nginx `listen` value: "127.0.0.1:8080" or "8080". */
  listen: string;
  /** host:port of every replica (docker: the service name, resolved by Docker's DNS). */
  upstreams: string[];
  /** local only: the `user` directive, needed when nginx runs as root. */
  user?: string | undefined;
  /** Default: 1 locally, auto in Docker. */
  workerProcesses?: number | 'auto';
}

export const NGINX_DEFAULTS: Readonly<NginxTunables>;
export function renderNginxConfig(options: NginxConfigOptions): string;
export function renderDockerNginxConfig(): string;
