/**
 * Words for a fetch that threw before the response headers arrived: the AbortSignal.timeout fired, or the backend
 * could not be reached. undici says only "fetch failed" and keeps the reason (ECONNREFUSED, ENOTFOUND…) in `cause`.
 */
export function describeFetchFailure(error: unknown, timeoutMs: number): string {
  if (isTimeout(error)) return `no answer within ${timeoutMs} ms`;
  return `unreachable: ${describeError(error)}`;
}

/** True for the error that AbortSignal.timeout raises, whether fetch or a body read was waiting on it. */
export function isTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === 'TimeoutError';
}

export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause: unknown = error.cause;
  const code = cause instanceof Error && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
  return code === undefined ? error.message : `${error.message} (${code})`;
}
