import { GatewayError, type ApiKeyRecord, type GatewayConfig } from '@dosrouter/shared';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import { FairQueue, LocalSlots } from './fair-queue.js';
import { queuePlaceOf, type QueuePlace } from './queue-place.js';
import { NO_LIMIT, retryAfterSecondsOf, slotOrRefusal, type SaturationSlot } from './saturation-slot.js';

/**
 * The replica's limit on forwarded requests in flight (`saturation.maxConcurrentRequests`) and its fair queue.
 * Returns a slot, or throws the refusal a client sees: 503 `gateway_saturated` when the wait ran out, 429
 * `queue_share_exceeded` when its key held the most places of a full queue, both with Retry-After. A client that
 * leaves while waiting gets nothing (its response is already closed) and frees its place.
 */
export class ReplicaSaturation {
  private readonly queue: FairQueue | undefined;
  private readonly retryAfterSeconds: number;

  constructor(
    private readonly config: GatewayConfig['saturation'],
    private readonly metrics: GatewayMetrics,
    clock: () => number,
  ) {
    const slots = config.maxConcurrentRequests === undefined ? undefined : new LocalSlots(config.maxConcurrentRequests);
    this.queue = slots && new FairQueue({ slots, maxWaiting: config.maxWaiting, timeoutMs: config.queueTimeoutMs, clock });
    this.retryAfterSeconds = retryAfterSecondsOf(config.queueTimeoutMs);
    metrics.observeSaturation(() => ({ active: slots?.active ?? 0, waiting: this.queue?.waiting ?? 0 }));
  }

  /** The request's place in every saturation queue: its key's weight and priority, and the header if allowed. */
  placeOf(apiKey: ApiKeyRecord | undefined, priorityHeader: string | string[] | undefined, address: string | undefined): QueuePlace {
    return queuePlaceOf(this.config, apiKey, priorityHeader, address);
  }

  /**
   * Waits for a slot for the request at `place`, or throws its refusal; `clientGone.signal`: the client left (then
   * undefined), read only when the request may wait. Unlimited (no `maxConcurrentRequests`): a slot at once, without
   * a promise.
   */
  acquire(place: QueuePlace, clientGone: { readonly signal: AbortSignal }): SaturationSlot | Promise<SaturationSlot | undefined> {
    const queue = this.queue;
    if (!queue) return NO_LIMIT;
    return this.wait(queue, place, clientGone.signal);
  }

  private async wait(queue: FairQueue, place: QueuePlace, signal: AbortSignal): Promise<SaturationSlot | undefined> {
    const entry = await queue.enter(place.flow, place.priority, place.weight, signal);
    if (entry.waitedMs > 0 || !entry.ok) this.metrics.recordQueueWait(entry.ok ? 'admitted' : entry.reason, place.priority, entry.waitedMs, 'replica');
    return slotOrRefusal(queue, entry, this.retryAfterSeconds, () => this.saturated());
  }

  private saturated(): GatewayError {
    return new GatewayError(`This gateway is saturated: no slot freed within ${this.config.queueTimeoutMs} ms; retry shortly.`, {
      status: 503,
      code: 'gateway_saturated',
      type: 'server_error',
      retryable: true,
      retryAfterSeconds: this.retryAfterSeconds,
    });
  }
}
