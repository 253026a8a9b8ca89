import type { Express, Request, Response } from 'express';

/** Cross-origin access for browser clients: off unless `server.cors.origins` lists some. */
export interface CorsPolicy {
  /** Exact origins (`https://app.example.com`), or `*` for any. */
  readonly origins: readonly string[];
  readonly maxAgeSeconds: number;
}

/** Headers a browser client may send and read. */
const ALLOWED_REQUEST_HEADERS = 'authorization, x-api-key, anthropic-version, anthropic-beta, content-type, x-request-id, x-session-id, x-dosrouter-strategy';
const EXPOSED_HEADERS =
  'x-request-id, x-dosrouter-model, x-dosrouter-deployment, x-dosrouter-strategy, x-dosrouter-attempts, x-dosrouter-tier, ' +
  'x-dosrouter-rule, x-dosrouter-cost-usd, x-dosrouter-savings, retry-after, retry-after-ms, x-ratelimit-limit-requests, ' +
  'x-ratelimit-remaining-requests, x-ratelimit-limit-tokens, x-ratelimit-remaining-tokens';

/**
 * The security headers every API answer carries (a JSON API needs few: no sniffing, no framing, no referrer; HSTS
 * over HTTPS), and CORS when configured. Set with the request id, in the request context: no extra middleware layer
 * on the hot path. See docs/decisions/0007-security-headers-without-helmet.md.
 */
export function applySecurityHeaders(request: Request, response: Response, cors: CorsPolicy | undefined): void {
  response.setHeader('x-content-type-options', 'nosniff');
  response.setHeader('x-frame-options', 'DENY');
  response.setHeader('referrer-policy', 'no-referrer');
  if ((request.socket as { encrypted?: boolean }).encrypted) response.setHeader('strict-transport-security', 'max-age=31536000');
  if (!cors) return;
  // The answer depends on the Origin: caches must keep one per origin, allowed or not.
  if (!cors.origins.includes('*')) response.setHeader('vary', 'Origin');
  const origin = allowedOrigin(cors, request.headers.origin);
  if (origin) {
    response.setHeader('access-control-allow-origin', origin);
    response.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
  }
}

/** Answers CORS preflights for /v1 when a policy is configured; without one, OPTIONS stays an unknown route. */
export function registerCorsPreflight(app: Express, cors: CorsPolicy | undefined): void {
  if (!cors) return;
  app.options('/v1/*path', function corsPreflight(request: Request, response: Response) {
    const origin = allowedOrigin(cors, request.headers.origin);
    if (!cors.origins.includes('*')) response.setHeader('vary', 'Origin');
    if (origin) {
      response.setHeader('access-control-allow-origin', origin);
      response.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
      response.setHeader('access-control-allow-headers', allowedRequestHeaders(request.headers['access-control-request-headers']));
      response.setHeader('access-control-max-age', String(cors.maxAgeSeconds));
    }
    response.status(204).end();
  });
}

/**
 * The headers a preflight may announce: ours, and whatever else it lists when each is a plain header name (the
 * official SDKs send `x-stainless-*` and `openai-*` headers, which change between versions). The origin is already
 * allowed; header names carry no authority of their own.
 */
function allowedRequestHeaders(requested: string | undefined): string {
  const names = (requested ?? '').split(',').map((name) => name.trim().toLowerCase()).filter((name) => /^[a-z0-9-]{1,64}$/.test(name));
  return [...new Set([...ALLOWED_REQUEST_HEADERS.split(', '), ...names])].join(', ');
}

function allowedOrigin(cors: CorsPolicy, origin: string | undefined): string | undefined {
  if (origin === undefined) return undefined;
  if (cors.origins.includes('*')) return '*';
  return cors.origins.includes(origin) ? origin : undefined;
}
