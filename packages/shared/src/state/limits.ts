/** Limits of one rate-limit scope (an API key or a deployment). Undefined or 0 means unlimited. */
export interface RateLimits {
  readonly requestsPerMinute?: number;
  readonly tokensPerMinute?: number;
  readonly concurrency?: number;
}

/** A scope and its limits. `id` is `key:<hash>` or `deployment:<id>`; raw API keys never reach Redis. */
export interface LimitScope {
  readonly id: string;
  readonly limits: RateLimits;
}

export type LimitKind = 'requests' | 'tokens' | 'concurrency' | 'daily_budget' | 'monthly_budget';

/** 1 USD in the integer unit spend is counted in (nano-dollars): sums of integers stay exact, floats would drift. */
export const NANO_USD = 1_000_000_000;

/**
 * An API key's spend budget, checked at admission: the key's spend today and this month (UTC), counted in Redis by
 * every replica when its requests finish. `day` and `month` name the current periods (`2026-11-24`, `2026-11`).
 */
export interface BudgetCheck {
  /** The key's id, as in usage records. */
  readonly keyId: string;
  /** Nano-USD; -1 = no limit for that period (0 refuses every request). */
  readonly dailyNanoUsd: number;
  readonly monthlyNanoUsd: number;
  readonly day: string;
  readonly month: string;
}

/** What a key has spent, in nano-USD, as admission saw it. */
export interface SpendStatus {
  readonly dayNanoUsd: number;
  readonly monthNanoUsd: number;
}

/** Spend a limiter without Redis reads: the in-memory ledger (embedded mode) or what a replica saw last (fallback). */
export interface SpendReader {
  spentNanoUsd(keyId: string, period: string): number;
}

/** Where a scope's window stands after an admission: what OpenAI's `x-ratelimit-*` headers report. */
export interface WindowStatus {
  /** Start of the one-minute window (ms since the epoch); the settle step only corrects this window. */
  readonly windowStart: number;
  readonly requests: number;
  readonly tokens: number;
  /** Milliseconds until the window resets. */
  readonly resetMs: number;
}

export interface AdmissionRequest {
  /** The gateway's own id for the request (never the client's x-request-id): its leases are held under it. */
  readonly requestId: string;
  /**
   * Which of the request's admissions this is: 0 (the default) for the first, counting up for each failover
   * admission. With `requestId` it names the admission, so that running it twice counts it once.
   */
  readonly admission?: number;
  /** The client's scope, when its key has limits. */
  readonly key?: LimitScope;
  /** The candidate deployments in routing order; each may have limits of its own. */
  readonly deployments: readonly LimitScope[];
  /** Tokens reserved before forwarding: estimated prompt tokens plus the expected completion. */
  readonly estimatedTokens: number;
  /** The key's spend budget, when it has one (checked before its rate limits). */
  readonly budget?: BudgetCheck;
}

export type AdmissionResult =
  | {
      readonly admitted: true;
      /** Index into `deployments` of the first one with room. */
      readonly deploymentIndex: number;
      readonly key?: WindowStatus;
      /** Start of the admitted deployment's window, for settling its tokens. */
      readonly deploymentWindowStart: number;
      /** With a budget check: the key's spend before this request. */
      readonly spend?: SpendStatus;
    }
  | {
      readonly admitted: false;
      readonly refusedBy: 'key' | 'deployments';
      readonly limit: LimitKind;
      readonly retryAfterMs: number;
      readonly key?: WindowStatus;
      readonly spend?: SpendStatus;
    };

/** What to undo or correct when a request is over. */
export interface Release {
  readonly requestId: string;
  readonly scopes: readonly { readonly id: string; readonly windowStart: number; readonly hasConcurrencyLimit: boolean }[];
  /** Real tokens minus the estimate reserved at admission (negative gives tokens back). */
  readonly tokenCorrection: number;
}

export const LIMIT_WINDOW_MS = 60_000;

export function hasLimits(limits: RateLimits): boolean {
  return Boolean(limits.requestsPerMinute || limits.tokensPerMinute || limits.concurrency);
}
