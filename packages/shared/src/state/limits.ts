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

export type LimitKind = 'requests' | 'tokens' | 'concurrency';

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
  readonly requestId: string;
  /** The client's scope, when its key has limits. */
  readonly key?: LimitScope;
  /** The candidate deployments in routing order; each may have limits of its own. */
  readonly deployments: readonly LimitScope[];
  /** Tokens reserved before forwarding: estimated prompt tokens plus the expected completion. */
  readonly estimatedTokens: number;
}

export type AdmissionResult =
  | {
      readonly admitted: true;
      /** Index into `deployments` of the first one with room. */
      readonly deploymentIndex: number;
      readonly key?: WindowStatus;
      /** Start of the admitted deployment's window, for settling its tokens. */
      readonly deploymentWindowStart: number;
    }
  | {
      readonly admitted: false;
      readonly refusedBy: 'key' | 'deployments';
      readonly limit: LimitKind;
      readonly retryAfterMs: number;
      readonly key?: WindowStatus;
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
