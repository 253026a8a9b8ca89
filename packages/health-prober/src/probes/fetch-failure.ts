import type { ProbeResult } from './probe-result.js';

/**
 * Words for a fetch that threw before the response headers arrived: the AbortSignal.timeout fired, or the backend
 * could not be reached. undici says only "fetch failed" and keeps the reason (ECONNREFUSED, ENOTFOUND…) in `cause`.
 */
export function describeFetchFailure(error: unknown, timeoutMs: number): string {
  if (isTimeout(error)) return `no answer within ${timeoutMs} ms`;
  return `unreachable: ${describeError(error)}`;
}

/** The result of a probe whose fetch threw before the response headers arrived. */
export function fetchFailure(error: unknown, timeoutMs: number, latencyMs: number): ProbeResult {
  const reason = describeFetchFailure(error, timeoutMs);
  return isTimeout(error) ? { ok: false, latencyMs, reason, timedOut: true } : { ok: false, latencyMs, reason };
}

/** True for the error that AbortSignal.timeout raises, whether fetch or a body read was waiting on it. */
export function isTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === 'TimeoutError';
}

/**
 * An error in words for logs, job results and metrics labels, with any URL in it replaced by `<url>`: some errors
 * quote the URL they failed on, and a URL may carry a secret.
 */
export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause: unknown = error instanceof Error ? error.cause : undefined;
  const code = cause instanceof Error && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
  const safe = message.replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '<url>');
  return code === undefined ? safe : `${safe} (${code})`;
}
