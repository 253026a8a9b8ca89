/** The error shape every OpenAI endpoint answers with. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface HttpErrorDetails {
  status: number;
  message: string;
  type: string;
  param?: string | null;
  code?: string | null;
  headers?: Record<string, string>;
  cause?: unknown;
}

/** Thrown by handlers; the server turns it into an OpenAI-shaped JSON answer in one place. */
export class SimulatorHttpError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;
  readonly headers: Record<string, string>;

  constructor(details: HttpErrorDetails) {
    super(details.message, { cause: details.cause });
    this.name = 'SimulatorHttpError';
    this.status = details.status;
    this.type = details.type;
    this.param = details.param ?? null;
    this.code = details.code ?? null;
    this.headers = details.headers ?? {};
  }

  toBody(): OpenAiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export function invalidRequestError(message: string, param: string | null = null, code: string | null = null): SimulatorHttpError {
  return new SimulatorHttpError({ status: 400, message, type: 'invalid_request_error', param, code });
}

export function modelNotFoundError(model: string): SimulatorHttpError {
  return new SimulatorHttpError({
    status: 404,
    message: `The model \`${model}\` does not exist`,
    type: 'invalid_request_error',
    param: 'model',
    code: 'model_not_found',
  });
}

export function invalidUrlError(method: string, path: string): SimulatorHttpError {
  return new SimulatorHttpError({
    status: 404,
    message: `Invalid URL (${method} ${path})`,
    type: 'invalid_request_error',
  });
}
