import { createHash } from 'node:crypto';
import {
  GatewayError,
  NANO_USD,
  hasLimits,
  msUntilPeriodEnds,
  toNanoUsd,
  usageDay,
  usageMonth,
  type AdmissionResult,
  type BudgetCheck,
  type ApiKeyRecord,
  type Deployment,
  type LimitScope,
  type RateLimits,
  type WindowStatus,
} from '@dosrouter/shared';

/**
 * The client's rate-limit scope. Until API keys exist, the key is the Authorization header as sent; only its
 * hash is used, so no client secret ever reaches Redis.
 */
export function keyScope(authorization: string | undefined, limits: RateLimits, apiKey?: ApiKeyRecord): LimitScope | undefined {
  if (apiKey) {
    // A key's own limits override `limits.perKey` field by field.
    const own = Object.fromEntries(Object.entries(apiKey.limits).filter(([, value]) => value !== undefined));
    const merged = { ...limits, ...own };
    return hasLimits(merged) ? { id: `key:${apiKey.id}`, limits: merged } : undefined;
  }
  if (!hasLimits(limits)) return undefined;
  return { id: authorization ? scopeIdOf(authorization) : 'key:anonymous', limits };
}

/**
 * `key:` and the first 32 hex digits of the secret's SHA-256: a fixed 36 characters, whatever the client sent.
 * Computed on every request rather than cached by the header: a cache keyed by the raw value held every distinct
 * Authorization a client invented (10,000 of up to 16 KB took RSS from 112 to 697 MB), and hashing a usual key
 * costs about 0.7 µs (16 KB: about 10 µs).
 */
function scopeIdOf(authorization: string): string {
  const secret = authorization.replace(/^Bearer\s+/i, '').trim();
  return secret ? `key:${createHash('sha256').update(secret).digest('hex').slice(0, 32)}` : 'key:anonymous';
}

export function deploymentScope(deployment: Deployment): LimitScope {
  return { id: `deployment:${deployment.id}`, limits: deployment.limits };
}

/**
 * Tokens to reserve before forwarding: the body's size over four (a generous prompt estimate: JSON syntax
 * counts too) plus the completion the client allows, or the configured default. Settled to the real count
 * when the answer's usage is known. Every field read here is validated first (validation/estimate-fields.ts), so
 * the result is a whole number the limiter accepts.
 */
export function estimateTokens(bodyBytes: number, body: Record<string, unknown>, completionDefault: number): number {
  const completion = Number(body.max_completion_tokens ?? body.max_tokens) || completionDefault;
  const choices = Number(body.n) || 1;
  return Math.ceil(bodyBytes / 4) + completion * choices;
}

/** OpenAI's duration format in `x-ratelimit-reset-*`: "20ms", "1.5s", "6m0s". */
export function formatReset(milliseconds: number): string {
  const value = Math.max(0, Math.round(milliseconds));
  if (value < 1000) return `${value}ms`;
  if (value < 60_000) return `${Number((value / 1000).toFixed(1))}s`;
  return `${Math.floor(value / 60_000)}m${Math.round((value % 60_000) / 1000)}s`;
}

/** The `x-ratelimit-*` headers OpenAI sends, for the client's key. */
export function rateLimitHeaders(limits: RateLimits, window: WindowStatus | undefined): Record<string, string> {
  if (!window) return {};
  const headers: Record<string, string> = {};
  if (limits.requestsPerMinute) {
    headers['x-ratelimit-limit-requests'] = String(limits.requestsPerMinute);
    headers['x-ratelimit-remaining-requests'] = String(Math.max(0, limits.requestsPerMinute - window.requests));
    headers['x-ratelimit-reset-requests'] = formatReset(window.resetMs);
  }
  if (limits.tokensPerMinute) {
    headers['x-ratelimit-limit-tokens'] = String(limits.tokensPerMinute);
    headers['x-ratelimit-remaining-tokens'] = String(Math.max(0, limits.tokensPerMinute - window.tokens));
    headers['x-ratelimit-reset-tokens'] = formatReset(window.resetMs);
  }
  return headers;
}

const LIMIT_NAMES = {
  requests: 'requests per minute',
  tokens: 'tokens per minute',
  concurrency: 'concurrent requests',
  daily_budget: 'daily budget',
  monthly_budget: 'monthly budget',
} as const;

/** The key's budget as admission checks it, when it has a daily, monthly or soft limit. */
export function budgetCheckOf(apiKey: ApiKeyRecord, now: number): BudgetCheck | undefined {
  const { dailyUsd, monthlyUsd, softDailyUsd } = apiKey.budget;
  if (dailyUsd === undefined && monthlyUsd === undefined && softDailyUsd === undefined) return undefined;
  return {
    keyId: apiKey.id,
    dailyNanoUsd: dailyUsd === undefined ? -1 : toNanoUsd(dailyUsd),
    monthlyNanoUsd: monthlyUsd === undefined ? -1 : toNanoUsd(monthlyUsd),
    day: usageDay(now),
    month: usageMonth(now),
  };
}

/**
 * The 429 for a key whose budget is spent, shaped as OpenAI's own (`insufficient_quota`). Retrying does not help
 * until the period ends, so the SDKs are told not to (`x-should-retry: false`).
 */
export function budgetSpentError(budget: BudgetCheck, limit: 'daily_budget' | 'monthly_budget', now = Date.now()): GatewayError {
  const daily = limit === 'daily_budget';
  const amount = (daily ? budget.dailyNanoUsd : budget.monthlyNanoUsd) / NANO_USD;
  const renews = new Date(now + msUntilPeriodEnds(now, daily ? 'day' : 'month')).toISOString();
  return new GatewayError(`You exceeded your key's ${LIMIT_NAMES[limit]} of $${amount}. It renews at ${renews}.`, {
    status: 429,
    code: 'insufficient_quota',
    type: 'insufficient_quota',
    retryable: false,
  });
}

/** The 429 for a refused admission, shaped as OpenAI's (type `requests` or `tokens`, code `rate_limit_exceeded`). */
export function rateLimitedError(result: AdmissionResult & { admitted: false }, model: string): GatewayError {
  const wait = formatReset(result.retryAfterMs);
  const message =
    result.refusedBy === 'key'
      ? `Rate limit reached for ${LIMIT_NAMES[result.limit]} on your key. Please try again in ${wait}.`
      : `Every deployment of ${model} is at its ${LIMIT_NAMES[result.limit]} limit. Please try again in ${wait}.`;
  return new GatewayError(message, {
    status: 429,
    code: result.refusedBy === 'key' ? 'rate_limit_exceeded' : 'deployment_rate_limit_exceeded',
    type: result.limit === 'tokens' ? 'tokens' : 'requests',
    retryable: true,
    retryAfterSeconds: Math.max(1, Math.ceil(result.retryAfterMs / 1000)),
    retryAfterMs: Math.max(1, Math.round(result.retryAfterMs)),
  });
}
