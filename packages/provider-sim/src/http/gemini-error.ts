import type { IncomingMessage } from 'node:http';
import { SimulatorHttpError } from './http-error.js';

/** The error shape every Gemini API endpoint answers with (google.rpc.Status as JSON). */
export interface GeminiErrorBody {
  error: { code: number; message: string; status: string; details?: Record<string, unknown>[] };
}

/** google.rpc's status name for an HTTP status, as the Gemini API pairs them. */
export function geminiStatusName(status: number): string {
  switch (status) {
    case 400:
      return 'INVALID_ARGUMENT';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'PERMISSION_DENIED';
    case 404:
      return 'NOT_FOUND';
    case 429:
      return 'RESOURCE_EXHAUSTED';
    case 503:
      return 'UNAVAILABLE';
    case 504:
      return 'DEADLINE_EXCEEDED';
    default:
      return status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION';
  }
}

/** Marks the error of a refused API key: Google answers it with 400 and this ErrorInfo reason. */
const API_KEY_INVALID = 'API_KEY_INVALID';

/**
 * Any simulator error in Gemini's shape, with the status Gemini would answer: the faults and the outage that the
 * OpenAI endpoints answer in OpenAI's shape read the same here as a real Gemini error of that status. Anthropic's 529
 * (the overloaded fault) is Gemini's 503 UNAVAILABLE. Gemini sends no `retry-after` header: a wait goes in a RetryInfo
 * detail instead, as Google's quota errors carry it.
 */
export function toGeminiError(error: SimulatorHttpError): { status: number; body: GeminiErrorBody; headers: Record<string, string> } {
  const status = error.status === 529 ? 503 : error.status;
  const message =
    error.status === 529
      ? 'The model is overloaded. Please try again later.'
      : error.status === 500
        ? 'An internal error has occurred.'
        : error.code === 'rate_limit_exceeded'
          ? 'You exceeded your current quota, please check your plan and billing details.'
          : error.message;
  const { 'retry-after': retryAfter, 'retry-after-ms': _retryAfterMs, ...headers } = error.headers;
  const details: Record<string, unknown>[] = [];
  if (error.code === API_KEY_INVALID) {
    details.push({ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: API_KEY_INVALID, domain: 'googleapis.com' });
  }
  if (retryAfter !== undefined) details.push({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryAfter}s` });
  const body: GeminiErrorBody = { error: { code: status, message, status: geminiStatusName(status), ...(details.length > 0 ? { details } : {}) } };
  return { status, body, headers };
}

/**
 * Checks the key as the Gemini API does, only when the simulator has one: in `x-goog-api-key` or the `key` query
 * parameter. A missing key is 403 PERMISSION_DENIED, a wrong one 400 INVALID_ARGUMENT with reason API_KEY_INVALID;
 * neither message echoes the key.
 */
export function authorizeGemini(apiKey: string | undefined, request: IncomingMessage, query: URLSearchParams): void {
  if (apiKey === undefined) {
    return;
  }
  const header = request.headers['x-goog-api-key'];
  const sent = typeof header === 'string' ? header : (query.get('key') ?? undefined);
  if (sent === apiKey) {
    return;
  }
  if (sent === undefined) {
    throw new SimulatorHttpError({
      status: 403,
      message: "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
      type: 'permission_error',
    });
  }
  throw new SimulatorHttpError({ status: 400, message: 'API key not valid. Please pass a valid API key.', type: 'invalid_request_error', code: API_KEY_INVALID });
}
