import type { GatewayError } from '@dosrouter/shared';
import type { ErrorResponse, ErrorType } from './anthropic-types.js';

/**
 * A gateway error as Anthropic sends errors: its status mapped to Anthropic's (a 503 — the gateway, the replica or
 * every deployment saturated or unavailable — is 529 `overloaded_error`, which Anthropic's SDKs retry; other server
 * errors are 500 `api_error`, a deadline 504 `timeout_error`; a native backend's own 529 stays one) and the body `{"type":"error","error":{type,message}}`.
 */
export function anthropicErrorOf(error: GatewayError): { status: number; body: ErrorResponse } {
  const { status, type } = anthropicStatusOf(error.status);
  return { status, body: { type: 'error', error: { type, message: error.message } } };
}

function anthropicStatusOf(status: number): { status: number; type: ErrorType } {
  switch (status) {
    case 401:
      return { status, type: 'authentication_error' };
    case 402:
      return { status, type: 'billing_error' };
    case 403:
      return { status, type: 'permission_error' };
    case 404:
      return { status, type: 'not_found_error' };
    case 413:
      return { status, type: 'request_too_large' };
    case 429:
      return { status, type: 'rate_limit_error' };
    case 503:
    case 529:
      return { status: 529, type: 'overloaded_error' };
    case 504:
      return { status, type: 'timeout_error' };
    default:
      if (status >= 500) return { status: 500, type: 'api_error' };
      // 400, and the other 4xx the gateway sends (405, 408, 415, 422, 431): the request is at fault.
      return { status, type: 'invalid_request_error' };
  }
}

/** An error as an Anthropic stream's `error` event. */
export function anthropicErrorEvent(error: GatewayError): string {
  return `event: error\ndata: ${JSON.stringify(anthropicErrorOf(error).body)}\n\n`;
}
