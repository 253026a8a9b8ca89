import { GatewayError } from '@dosrouter/shared';
import type { FairQueue, QueueEntry } from './fair-queue.js';

/** A slot held by one request; `release` gives it back (once, however often it is called). */
export interface SaturationSlot {
  readonly waitedMs: number;
  release(): void;
}

/** What an unlimited replica or deployment hands out: nothing to give back. */
export const NO_LIMIT: SaturationSlot = { waitedMs: 0, release: () => undefined };

/** A slot of `queue` that `release` hands to its next waiter. */
export function queueSlot(queue: FairQueue, waitedMs: number): SaturationSlot {
  let released = false;
  return {
    waitedMs,
    release: () => {
      if (released) return;
      released = true;
      queue.leave();
    },
  };
}

/** Retry-After for a refusal: about a tenth of the queue's deadline, at least 1 s. */
export function retryAfterSecondsOf(queueTimeoutMs: number): number {
  return Math.max(1, Math.ceil(queueTimeoutMs / 10_000));
}

/**
 * The slot a queue entry won, undefined when the client left, or the refusal a client sees (`refusalOf`).
 */
export function slotOrRefusal(queue: FairQueue, entry: QueueEntry, retryAfterSeconds: number, saturated: () => GatewayError): SaturationSlot | undefined {
  if (entry.ok) return queueSlot(queue, entry.waitedMs);
  if (entry.reason === 'aborted') return undefined;
  throw refusalOf(entry.reason, retryAfterSeconds, saturated);
}

/**
 * 429 `queue_share_exceeded` when the key held the most places of a full queue, else the 503 `saturated` makes (the
 * wait ran out). Both carry Retry-After.
 */
export function refusalOf(reason: 'timeout' | 'over_share', retryAfterSeconds: number, saturated: () => GatewayError): GatewayError {
  if (reason === 'timeout') return saturated();
  return new GatewayError('This gateway is saturated and your key already holds the largest share of its queue; retry shortly.', {
    status: 429,
    code: 'queue_share_exceeded',
    type: 'rate_limit_error',
    retryable: true,
    retryAfterSeconds,
  });
}
