/** Limits cannot be checked: Redis is unreachable or too slow, and the configuration says to refuse meanwhile. */
export class LimitsUnavailableError extends Error {
  override readonly name = 'LimitsUnavailableError';
}

/**
 * The limiter itself failed: a script refused its arguments or raised an error. A bug (bad input that validation
 * let through, or a broken script), never an outage: the request fails, Redis stays in use for every other one.
 */
export class LimiterFailedError extends Error {
  override readonly name = 'LimiterFailedError';
}
