import type { Deployment } from '../../catalog/catalog.js';
import type { RetryPolicy } from '../../config/routing-schema.js';
import type { RandomSource } from '../types.js';

/**
 * What a failed attempt means for the rest of the request:
 * - `retry`: transient (connection errors, timeouts, 408, 429, 5xx, an empty or malformed answer): other
 *   deployments are tried, and this one again after a backoff while attempts and the deadline allow.
 * - `failover`: this deployment will not do (it refused our credential): others only.
 * - `larger_context`: the prompt did not fit: only deployments with a larger context window are tried.
 * - `again`: this deployment is called again at once, asked another way (a continuation without its prefill).
 * - `final`: the request itself is at fault (400, 401, 403, 404, 422, a content-policy rejection): it goes back to
 *   the client as it came.
 */
export type FailureKind = 'retry' | 'failover' | 'larger_context' | 'again' | 'final';

/** The parts of an error the classification reads (a GatewayError has them all). */
export interface AttemptFailure {
  readonly status: number;
  readonly code?: string | null;
  readonly retryable: boolean;
  /** The backend's retry-after, in milliseconds. */
  readonly retryAfterMs?: number;
}

const CONTEXT_CODES = new Set(['context_length_exceeded', 'string_above_max_length']);
/**
 * Codes for which the same deployment would fail the same way: fail over, but do not retry it. (`circuit_open` is
 * retried: after a 429's retry-after the circuit is half-open and lets one trial through, and the others must
 * wait their turn, not give up.)
 */
const FAILOVER_ONLY_CODES = new Set(['upstream_authentication_failed']);

/**
 * `maxRetryAfterMs`: a transient failure whose backend asks for a longer wait than that is failed over, not retried
 * (`retry.maxRetryAfterMs`).
 */
export function failureKind(failure: AttemptFailure, maxRetryAfterMs = Number.POSITIVE_INFINITY): FailureKind {
  if (failure.status === 400 && failure.code && CONTEXT_CODES.has(failure.code)) return 'larger_context';
  if (failure.code && FAILOVER_ONLY_CODES.has(failure.code)) return 'failover';
  if (failure.retryable && failure.retryAfterMs !== undefined && failure.retryAfterMs > maxRetryAfterMs) return 'failover';
  return failure.retryable ? 'retry' : 'final';
}

/** The next call to make: to whom, and how long to wait first. */
export interface NextAttempt {
  readonly deployment: Deployment;
  readonly delayMs: number;
}

const NONE: ReadonlySet<Deployment> = new Set();

interface RetryEntry {
  readonly deployment: Deployment;
  readonly notBefore: number;
}

/**
 * The attempts of one request, as a state machine the caller drives: `next()` says what to call, `failed()` reports
 * how it went. Pure: the caller supplies the clock readings and the random source.
 *
 * Deployments are tried in plan order without waiting; those that failed transiently are retried, earliest first,
 * each after exponential backoff with jitter or after the backend's retry-after if that is later (one longer than
 * `maxRetryAfterMs` is not waited for). With `order: spread` every planned deployment is tried once before any retry.
 * With `order: model-first` the first `primaryCount` planned deployments (the requested model's) and their retries
 * come before the rest (the fallback chain), while that leaves an attempt for the fallbacks. No attempt starts
 * after the deadline, and a wait that would end after it is not made.
 */
export class AttemptSequence {
  private readonly fresh: Deployment[];
  private retries: RetryEntry[] = [];
  private readonly failures = new Map<string, number>();
  private made = 0;
  private stopped = false;
  /** After a context-length failure: only deployments with a larger window than this. */
  private minContext = 0;
  private readonly deadline: number;

  private readonly primary: Set<Deployment>;

  constructor(
    planned: readonly Deployment[],
    private readonly policy: RetryPolicy,
    startedAt: number,
    private readonly random: RandomSource,
    primaryCount = planned.length,
  ) {
    this.fresh = [...planned];
    this.deadline = startedAt + policy.deadlineMs;
    this.primary = new Set(policy.order === 'model-first' ? planned.slice(0, primaryCount) : planned);
  }

  /** Attempts made so far (calls reported through `failed` or `succeeded`). */
  get attempts(): number {
    return this.made;
  }

  /** `busy`: deployments already called and not yet reported (racing hedged attempts), and not to be offered. */
  next(now: number, busy: ReadonlySet<Deployment> = NONE): NextAttempt | undefined {
    if (this.stopped || this.made + busy.size >= this.policy.attempts || now > this.deadline) return undefined;
    const fits = (deployment: Deployment): boolean => this.fits(deployment) && !busy.has(deployment);
    const fresh = this.fresh.filter(fits);
    const eligible = this.retries.filter((entry) => fits(entry.deployment) && entry.notBefore <= this.deadline);
    const primaryFresh = fresh.find((deployment) => this.primary.has(deployment));
    if (primaryFresh) return { deployment: primaryFresh, delayMs: 0 };
    // The requested model's retries go first while an attempt stays for a fallback not yet tried.
    const primaryRetries = eligible.filter((entry) => this.primary.has(entry.deployment));
    if (primaryRetries.length > 0 && (fresh.length === 0 || this.made + 1 < this.policy.attempts)) return this.soonest(primaryRetries, now);
    if (fresh.length > 0) return { deployment: fresh[0]!, delayMs: 0 };
    return eligible.length === 0 ? undefined : this.soonest(eligible, now);
  }

  /**
   * `deployment` is not to be called before `notBefore` (its circuit is open that long): it waits among the retries
   * without counting as an attempt. For the requested model's only deployment, held by a backend's 429.
   */
  waitFor(deployment: Deployment, notBefore: number): void {
    if (notBefore > this.deadline) return;
    this.take(deployment);
    this.primary.add(deployment);
    this.retries.push({ deployment, notBefore });
  }

  private soonest(entries: readonly RetryEntry[], now: number): NextAttempt {
    const soonest = entries.reduce((best, entry) => (entry.notBefore < best.notBefore ? entry : best));
    return { deployment: soonest.deployment, delayMs: Math.max(0, soonest.notBefore - now) };
  }

  /** `deployment` was not called after all (its own rate limit had no room): move on without counting it. */
  skipped(deployment: Deployment): void {
    this.take(deployment);
  }

  failed(deployment: Deployment, kind: FailureKind, now: number, retryAfterMs?: number): void {
    this.take(deployment);
    this.made += 1;
    switch (kind) {
      case 'final':
        this.stopped = true;
        return;
      case 'larger_context':
        this.minContext = Math.max(this.minContext, deployment.contextWindow);
        return;
      case 'failover':
        return;
      case 'again':
        this.retries.push({ deployment, notBefore: now });
        return;
      case 'retry': {
        const count = (this.failures.get(deployment.id) ?? 0) + 1;
        this.failures.set(deployment.id, count);
        const notBefore = now + Math.max(this.backoffMs(count), retryAfterMs ?? 0);
        this.retries.push({ deployment, notBefore });
      }
    }
  }

  succeeded(deployment: Deployment): void {
    this.take(deployment);
    this.made += 1;
    this.stopped = true;
  }

  /** The wait before the `retry`-th retry of one deployment: initial × 2^(retry−1), capped, between half and all of it. */
  backoffMs(retry: number): number {
    const ceiling = Math.min(this.policy.maxBackoffMs, this.policy.initialBackoffMs * 2 ** (retry - 1));
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  private fits(deployment: Deployment): boolean {
    return deployment.contextWindow > this.minContext;
  }

  private take(deployment: Deployment): void {
    const index = this.fresh.indexOf(deployment);
    if (index !== -1) this.fresh.splice(index, 1);
    this.retries = this.retries.filter((entry) => entry.deployment !== deployment);
  }
}
