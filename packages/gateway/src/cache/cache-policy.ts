import { GatewayError, cacheRequestModes, type ResponseCacheConfig } from '@dosrouter/shared';

/** The header a client sets per request (`use`, `bypass`, `refresh`), and the one the gateway answers with. */
export const CACHE_HEADER = 'x-dosrouter-cache';

/**
 * What the cache does for one request: `off` (not enabled for it: nothing is added, no header), `bypass` (neither
 * read nor written), `refresh` (not read; the new answer is stored) or `use` (read, and stored on a miss).
 */
export type CacheMode = 'off' | 'bypass' | 'refresh' | 'use';

export interface CachePolicyInput {
  /** The route's own path (`/v1/chat/completions`, `/v1/messages`). */
  readonly route: string;
  readonly model: string;
  readonly operation: string;
  /** The API key's `cache` attribute. */
  readonly keyCache: boolean | undefined;
  readonly header: string | string[] | undefined;
  readonly cacheControl: string | string[] | undefined;
  readonly body: Readonly<Record<string, unknown>>;
}

/**
 * The mode for one request. On when the client asks (`x-dosrouter-cache: use | refresh`), or its key, its routed model
 * or its route turn the cache on, unless its key turns it off. Then `bypass` for the header's `bypass`, for
 * `cache-control: no-store` and for a request that is not deterministic (with `requireDeterministic`: no `seed` and a
 * temperature other than 0); `refresh` for the header's `refresh` and `cache-control: no-cache`. Throws a 400 on an
 * unknown header value.
 */
export function cacheModeOf(config: ResponseCacheConfig, input: CachePolicyInput): CacheMode {
  const asked = requestedMode(input.header);
  if (input.keyCache === false) return 'off';
  const on = asked === 'use' || asked === 'refresh' || input.keyCache === true || config.models.includes(input.model) || config.routes.includes(input.route);
  if (!on) return 'off';
  const directives = cacheControlOf(input.cacheControl);
  if (asked === 'bypass' || directives.has('no-store')) return 'bypass';
  if (config.requireDeterministic && !deterministic(input.operation, input.body)) return 'bypass';
  if (asked === 'refresh' || directives.has('no-cache')) return 'refresh';
  return 'use';
}

function requestedMode(header: string | string[] | undefined): (typeof cacheRequestModes)[number] | undefined {
  if (header === undefined) return undefined;
  const value = (Array.isArray(header) ? header.join(',') : header).trim().toLowerCase();
  if ((cacheRequestModes as readonly string[]).includes(value)) return value as (typeof cacheRequestModes)[number];
  throw new GatewayError(`The ${CACHE_HEADER} header must be one of ${cacheRequestModes.join(', ')}; got "${value.slice(0, 40)}".`, {
    status: 400,
    code: 'invalid_value',
    param: CACHE_HEADER,
  });
}

function cacheControlOf(header: string | string[] | undefined): Set<string> {
  if (header === undefined) return new Set();
  const text = Array.isArray(header) ? header.join(',') : header;
  return new Set(text.split(',').map((directive) => directive.trim().toLowerCase().split('=')[0]!));
}

/** Embeddings always; otherwise `temperature: 0`, or a `seed`. */
function deterministic(operation: string, body: Readonly<Record<string, unknown>>): boolean {
  if (operation === 'embeddings') return true;
  return body['temperature'] === 0 || typeof body['seed'] === 'number';
}
