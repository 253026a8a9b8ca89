/**
 * The one error family the gateway raises. The error middleware turns every GatewayError into OpenAI's shape
 * `{"error":{"message","type","param","code"}}`; anything else becomes a 500 with a generic message.
 */
export type OpenAIErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'requests'
  | 'tokens'
  | 'insufficient_quota'
  | 'server_error'
  | 'api_error';

export interface GatewayErrorOptions {
  status: number;
  code: string;
  type?: OpenAIErrorType;
  param?: string | null;
  /** The gateway's own decision whether a client should retry; sent as `x-should-retry`. */
  retryable?: boolean;
  /** Seconds a client should wait before retrying (429, 503); sent as `retry-after`. */
  retryAfterSeconds?: number;
  /** The same wait in milliseconds, when known more precisely; sent as `retry-after-ms`. */
  retryAfterMs?: number;
  /** Extra headers the client receives with this error (e.g. `x-ratelimit-*`). */
  headers?: Record<string, string>;
  cause?: unknown;
}

/** Statuses worth retrying, as the OpenAI SDKs and vercel/ai's APICallError judge them. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

export function errorTypeForStatus(status: number): OpenAIErrorType {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly status: number;
  readonly code: string;
  readonly type: OpenAIErrorType;
  readonly param: string | null;
  readonly retryable: boolean;
  readonly retryAfterSeconds: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly headers: Record<string, string>;

  constructor(message: string, options: GatewayErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
    this.code = options.code;
    this.type = options.type ?? errorTypeForStatus(options.status);
    this.param = options.param ?? null;
    this.retryable = options.retryable ?? isRetryableStatus(options.status);
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.retryAfterMs = options.retryAfterMs;
    this.headers = options.headers ?? {};
  }

  /** The body a client receives. */
  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export const invalidRequest = (message: string, param: string | null = null, code = 'invalid_request'): GatewayError =>
  new GatewayError(message, { status: 400, code, param, type: 'invalid_request_error' });

export const modelNotFound = (model: string): GatewayError =>
  new GatewayError(`The model \`${model}\` does not exist or is not served by this gateway.`, {
    status: 404,
    code: 'model_not_found',
    param: 'model',
    type: 'invalid_request_error',
  });

export const routeNotFound = (method: string, path: string): GatewayError =>
  new GatewayError(`Unknown request URL: ${method} ${path}.`, {
    status: 404,
    code: 'unknown_url',
    type: 'invalid_request_error',
  });

export const payloadTooLarge = (limitBytes: number): GatewayError =>
  new GatewayError(`Request body is larger than the limit of ${limitBytes} bytes.`, {
    status: 413,
    code: 'request_too_large',
    type: 'invalid_request_error',
  });

/** A body whose shape goes past `server.bodyLimits.<limit>`: refused before it is parsed. */
export const bodyTooComplex = (limit: string, value: number, what: string): GatewayError =>
  new GatewayError(`The request body has ${what} than the limit of ${value} (server.bodyLimits.${limit}).`, {
    status: 400,
    code: 'body_too_complex',
    type: 'invalid_request_error',
  });

export const unsupportedMediaType = (contentType: string | undefined): GatewayError =>
  new GatewayError(
    `Unsupported content type ${contentType ? `"${contentType}"` : '(none)'}: send the body as application/json.`,
    { status: 415, code: 'unsupported_media_type', type: 'invalid_request_error' },
  );

export const upstreamUnreachable = (deployment: string, cause: unknown): GatewayError =>
  new GatewayError(`The backend for ${deployment} could not be reached.`, {
    status: 502,
    code: 'upstream_unreachable',
    type: 'server_error',
    cause,
  });

export const upstreamTimeout = (deployment: string, phase: string, cause?: unknown): GatewayError =>
  new GatewayError(`The backend for ${deployment} did not answer in time (${phase}).`, {
    status: 504,
    code: 'upstream_timeout',
    type: 'server_error',
    cause,
  });

export const internalError = (cause: unknown): GatewayError =>
  new GatewayError('The gateway had an internal error while processing the request.', {
    status: 500,
    code: 'internal_error',
    type: 'server_error',
    cause,
  });
