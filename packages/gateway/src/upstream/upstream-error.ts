import { GatewayError, isRetryableStatus, upstreamTimeout, upstreamUnreachable } from '@dosrouter/shared';
import { anthropicErrorMeaning } from '../translate/anthropic-error-meaning.js';
import { geminiErrorMeaning, geminiRetryDelayMs, isRefusedApiKey } from '../translate/gemini-error-meaning.js';
import type { RequestContext } from '../request/request-context.js';

/** The deadline that aborted an attempt, if one did: it decides the error's wording and whether a stream can fail over. */
export type Deadline = 'total deadline' | 'first token' | undefined;

/** Where an attempt was when a transport failure happened; decides 502 against 504 and what the log says. */
export type AttemptPhase = 'connect' | 'first_byte' | 'body' | 'total';

/** Turns a failure to talk to a backend (no HTTP status) into the error a client sees. Always retryable. */
export function fromTransportError(error: unknown, deployment: string, deadline: Deadline): GatewayError {
  if (deadline !== undefined) return upstreamTimeout(deployment, deadline, error);
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return upstreamTimeout(deployment, 'connect', error);
    case 'UND_ERR_HEADERS_TIMEOUT':
      return upstreamTimeout(deployment, 'first byte', error);
    case 'UND_ERR_BODY_TIMEOUT':
      return upstreamTimeout(deployment, 'idle between chunks', error);
    default:
      return upstreamUnreachable(deployment, error);
  }
}

/** Milliseconds to wait from `retry-after-ms` or `retry-after` (seconds or an HTTP date), if the backend sent one. */
export function parseRetryAfterMs(headers: Record<string, string | string[] | undefined>, now: number): number | undefined {
  const milliseconds = Number(single(headers['retry-after-ms']));
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return Math.ceil(milliseconds);
  const value = single(headers['retry-after']);
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const MAX_MESSAGE_LENGTH = 2_000;

/**
 * Turns a backend's error response into the error a client sees: the backend's status and message in OpenAI's
 * shape. Two exceptions keep secrets and blame straight: a backend's 401/403 means the gateway's own credential
 * was refused (its message may echo part of that key), so the client gets a 502 without the backend's text.
 * Anthropic's shape (`{"type":"error","error":{"type","message"}}`) is read by its error type: `overloaded_error`
 * (529) becomes a retryable 503 `upstream_overloaded`, and "prompt is too long" `context_length_exceeded`, so that
 * failover treats them as it treats OpenAI's. Gemini's shape (`{"error":{"code","message","status"}}`) is read by its
 * status: RESOURCE_EXHAUSTED a 429 whose RetryInfo delay is the retry-after, UNAVAILABLE a retryable 503, a refused
 * API key (400 API_KEY_INVALID) the gateway's credential refused, "input token count … exceeds"
 * `context_length_exceeded`.
 */
export function fromErrorResponse(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  bodyText: string,
  deployment: string,
  now: number,
): GatewayError {
  const detail = parseErrorBody(bodyText);
  if (status === 401 || status === 403 || (detail.geminiStatus !== undefined && isRefusedApiKey(detail.details))) {
    return new GatewayError(`The backend for ${deployment} refused the gateway's credentials.`, {
      status: 502,
      code: 'upstream_authentication_failed',
      type: 'server_error',
      retryable: true,
    });
  }
  const message = (detail.message ?? `The backend for ${deployment} answered with status ${status}.`).slice(0, MAX_MESSAGE_LENGTH);
  const meaning =
    detail.geminiStatus !== undefined
      ? geminiErrorMeaning(detail.geminiStatus, status)
      : detail.anthropicType !== undefined || status === 529
        ? anthropicErrorMeaning(detail.anthropicType, status)
        : undefined;
  const contextExceeded = meaning?.status === 400 && /prompt is too long|input token count .*exceeds/i.test(message);
  return new GatewayError(message, {
    status: meaning?.status ?? (status >= 400 && status <= 599 ? status : 502),
    code: contextExceeded ? 'context_length_exceeded' : (meaning?.code ?? detail.code ?? (status >= 500 ? 'upstream_error' : 'upstream_invalid_request')),
    type: meaning?.type ?? detail.type,
    param: detail.param,
    retryable: isRetryableStatus(status),
    // The client is told the same wait: `retry-after` in whole seconds, `retry-after-ms` exactly.
    ...retryAfter(parseRetryAfterMs(headers, now) ?? geminiRetryDelayMs(detail.details)),
  });
}

function retryAfter(milliseconds: number | undefined): { retryAfterSeconds?: number; retryAfterMs?: number } {
  return milliseconds === undefined ? {} : { retryAfterSeconds: Math.ceil(milliseconds / 1000), retryAfterMs: milliseconds };
}

interface ErrorDetail {
  message?: string;
  /** The error's type in Anthropic's shape (`{"type":"error","error":{...}}`). */
  anthropicType?: string;
  /** The error's google.rpc status in Gemini's shape (`{"error":{"code":429,"status":"RESOURCE_EXHAUSTED",...}}`). */
  geminiStatus?: string;
  /** Gemini's `details` (RetryInfo, ErrorInfo). */
  details?: unknown;
  code?: string;
  type?: GatewayError['type'];
  param?: string | null;
}

/** Reads OpenAI's `{"error":{...}}` and the other shapes OpenAI-compatible servers use (`{"error":"..."}`, `{"detail":...}`). */
function parseErrorBody(bodyText: string): ErrorDetail {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText);
  } catch {
    return bodyText.trim() ? { message: bodyText.trim() } : {};
  }
  const root = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!root || typeof root !== 'object') return {};
  const record = root as Record<string, unknown>;
  const error = record.error;
  if (typeof error === 'string') return { message: error };
  const source = error && typeof error === 'object' ? (error as Record<string, unknown>) : record;
  const message = asString(source.message) ?? asString(source.detail) ?? (typeof source.detail === 'object' ? JSON.stringify(source.detail) : undefined);
  const code = source.code;
  // Google's errors: a numeric code beside an UPPER_SNAKE status.
  const geminiStatus = source !== record && typeof code === 'number' && typeof source.status === 'string' && /^[A-Z_]+$/.test(source.status) ? source.status : undefined;
  if (geminiStatus !== undefined) return { message, geminiStatus, details: source.details, param: null };
  return {
    message,
    anthropicType: record.type === 'error' && source !== record ? (asString(source.type) ?? '') : undefined,
    code: typeof code === 'string' ? code : typeof code === 'number' ? String(code) : undefined,
    type: asString(source.type) as GatewayError['type'] | undefined,
    param: asString(source.param) ?? null,
  };
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The client went away before anything was sent to it: not the backend's failure. Its error counts against no
 * circuit (status 499) and is recorded nowhere; the caller stops, the client being gone.
 */
export function clientClosed(controller: AbortController, context: RequestContext, deadline: Deadline): GatewayError | undefined {
  if (!controller.signal.aborted || deadline !== undefined) return undefined;
  context.failed('client_closed');
  return new GatewayError('The client closed the connection.', { status: 499, code: 'client_closed', retryable: false });
}

export function streamInterrupted(deploymentId: string): GatewayError {
  return new GatewayError(`The backend for ${deploymentId} ended the stream before the answer was complete.`, {
    status: 502,
    code: 'upstream_stream_interrupted',
    type: 'server_error',
  });
}

export function malformedAnswer(deploymentId: string, what: string, cause?: unknown): GatewayError {
  return new GatewayError(`The backend for ${deploymentId} answered with ${what}.`, {
    status: 502,
    code: 'upstream_malformed_response',
    type: 'server_error',
    retryable: true,
    cause,
  });
}
