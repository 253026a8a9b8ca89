import type { AdmissionRequest, AdmissionResult, LimitScope, Release } from './limits.js';

/** Rate, token and concurrency limits across every replica (Redis) or within one process (memory). */
export interface Limiter {
  /** One round trip: checks the key and picks the first candidate deployment with room, counting both. */
  admit(request: AdmissionRequest): Promise<AdmissionResult>;
  /** Frees concurrency slots and settles tokens; called when a request is over, off the request's path. */
  release(release: Release): Promise<void>;
  /** Extends the concurrency leases of requests still in flight (long streams), so only dead replicas' expire. */
  renew(requestIds: readonly { requestId: string; scopeIds: readonly string[] }[]): Promise<void>;
  /**
   * Slots free under `scope`'s concurrency limit as admission would count them now (may be 0 or less); a hint for
   * requests waiting for one, never a reservation. Memory: at once; Redis: one read.
   */
  concurrencyRoom(scope: LimitScope): number | Promise<number>;
}
