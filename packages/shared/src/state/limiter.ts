import type { AdmissionRequest, AdmissionResult, Release } from './limits.js';

/** Rate, token and concurrency limits across every replica (Redis) or within one process (memory). */
export interface Limiter {
  /** One round trip: checks the key and picks the first candidate deployment with room, counting both. */
  admit(request: AdmissionRequest): Promise<AdmissionResult>;
  /** Frees concurrency slots and settles tokens; called when a request is over, off the request's path. */
  release(release: Release): Promise<void>;
  /** Extends the concurrency leases of requests still in flight (long streams), so only dead replicas' expire. */
  renew(requestIds: readonly { requestId: string; scopeIds: readonly string[] }[]): Promise<void>;
}
