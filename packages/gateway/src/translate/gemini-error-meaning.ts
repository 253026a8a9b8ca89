import type { OpenAIErrorType } from '@dosrouter/shared';

/** What a Gemini error means to a Chat Completions client: the status it gets, the code and the type. */
export interface GeminiErrorMeaning {
  readonly status: number;
  readonly code: string;
  readonly type: OpenAIErrorType;
}

/**
 * Gemini's errors (`{"error":{"code","message","status"}}`, google.rpc codes) by the status a client of the gateway
 * sees. RESOURCE_EXHAUSTED is a 429 (a quota; its retry delay rides along); UNAVAILABLE (an overloaded model) a
 * retryable 503; INVALID_ARGUMENT and FAILED_PRECONDITION the request's fault, 400.
 */
const MEANINGS: Readonly<Record<string, GeminiErrorMeaning>> = {
  INVALID_ARGUMENT: { status: 400, code: 'invalid_request', type: 'invalid_request_error' },
  FAILED_PRECONDITION: { status: 400, code: 'upstream_failed_precondition', type: 'invalid_request_error' },
  OUT_OF_RANGE: { status: 400, code: 'invalid_request', type: 'invalid_request_error' },
  UNAUTHENTICATED: { status: 401, code: 'upstream_authentication_failed', type: 'authentication_error' },
  PERMISSION_DENIED: { status: 403, code: 'upstream_permission_denied', type: 'permission_error' },
  NOT_FOUND: { status: 404, code: 'not_found', type: 'invalid_request_error' },
  RESOURCE_EXHAUSTED: { status: 429, code: 'rate_limit_exceeded', type: 'rate_limit_error' },
  CANCELLED: { status: 502, code: 'upstream_error', type: 'server_error' },
  INTERNAL: { status: 500, code: 'upstream_error', type: 'server_error' },
  UNKNOWN: { status: 500, code: 'upstream_error', type: 'server_error' },
  UNAVAILABLE: { status: 503, code: 'upstream_overloaded', type: 'server_error' },
  DEADLINE_EXCEEDED: { status: 504, code: 'upstream_timeout', type: 'server_error' },
};

/** The meaning of a Gemini error status; an unknown one by its HTTP status (a stream's error has none: 502). */
export function geminiErrorMeaning(status: unknown, httpStatus?: number): GeminiErrorMeaning {
  const known = typeof status === 'string' ? MEANINGS[status] : undefined;
  if (known) return known;
  if (httpStatus !== undefined && httpStatus < 500) return { status: httpStatus, code: 'upstream_invalid_request', type: 'invalid_request_error' };
  return { status: httpStatus ?? 502, code: 'upstream_error', type: 'server_error' };
}

/** Gemini's way of saying how long to wait: a `google.rpc.RetryInfo` detail's `retryDelay` ("37s", "0.5s"), in ms. */
export function geminiRetryDelayMs(details: unknown): number | undefined {
  if (!Array.isArray(details)) return undefined;
  for (const detail of details) {
    if (typeof detail !== 'object' || detail === null) continue;
    const { '@type': type, retryDelay } = detail as Record<string, unknown>;
    if (typeof type !== 'string' || !type.endsWith('google.rpc.RetryInfo') || typeof retryDelay !== 'string') continue;
    const seconds = /^(\d+(?:\.\d+)?)s$/.exec(retryDelay.trim())?.[1];
    if (seconds !== undefined) return Math.ceil(Number(seconds) * 1000);
  }
  return undefined;
}

/** An API key Google refused: it answers 400 INVALID_ARGUMENT with an ErrorInfo detail of reason API_KEY_INVALID. */
export function isRefusedApiKey(details: unknown): boolean {
  return Array.isArray(details) && details.some((detail) => typeof detail === 'object' && detail !== null && (detail as { reason?: unknown }).reason === 'API_KEY_INVALID');
}
