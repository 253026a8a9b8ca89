import type { OpenAIErrorType } from '@dosrouter/shared';

/** What a Messages error type means to a Chat Completions client: the status it gets, the code and the type. */
export interface AnthropicErrorMeaning {
  readonly status: number;
  readonly code: string;
  readonly type: OpenAIErrorType;
}

/**
 * Messages' error types (`{"type":"error","error":{"type","message"}}`) by the status a client of the gateway sees.
 * `overloaded_error` (Anthropic's 529, a status no OpenAI client knows) is a 503: retryable, failed over like one.
 */
const MEANINGS: Readonly<Record<string, AnthropicErrorMeaning>> = {
  invalid_request_error: { status: 400, code: 'invalid_request', type: 'invalid_request_error' },
  authentication_error: { status: 401, code: 'upstream_authentication_failed', type: 'authentication_error' },
  billing_error: { status: 402, code: 'upstream_billing', type: 'insufficient_quota' },
  permission_error: { status: 403, code: 'upstream_permission_denied', type: 'permission_error' },
  not_found_error: { status: 404, code: 'not_found', type: 'invalid_request_error' },
  request_too_large: { status: 413, code: 'request_too_large', type: 'invalid_request_error' },
  rate_limit_error: { status: 429, code: 'rate_limit_exceeded', type: 'rate_limit_error' },
  api_error: { status: 500, code: 'upstream_error', type: 'server_error' },
  timeout_error: { status: 504, code: 'upstream_timeout', type: 'server_error' },
  overloaded_error: { status: 503, code: 'upstream_overloaded', type: 'server_error' },
};

/**
 * The meaning of a Messages error type; an unknown one by its HTTP status (a stream's error event has none: 502). A
 * server error keeps the backend's own 5xx status (a 503 `api_error` stays a 503), except Anthropic's 529.
 */
export function anthropicErrorMeaning(type: unknown, status?: number): AnthropicErrorMeaning {
  const known = typeof type === 'string' ? MEANINGS[type] : undefined;
  if (known) return known.status >= 500 && status !== undefined && status >= 500 && status <= 599 && status !== 529 ? { ...known, status } : known;
  if (status === 529) return MEANINGS.overloaded_error!;
  if (status !== undefined && status < 500) return { status, code: 'upstream_invalid_request', type: 'invalid_request_error' };
  return { status: status ?? 502, code: 'upstream_error', type: 'server_error' };
}
