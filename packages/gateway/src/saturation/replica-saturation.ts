import { GatewayError, type GatewayConfig } from '@dosrouter/shared';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import { FairQueue, PRIORITIES, type Priority } from './fair-queue.js';

export const PRIORITY_HEADER = 'x-dosrouter-priority';

/** A slot held by one request; `release` gives it back (once, however often it is called). */
export interface SaturationSlot {
  readonly waitedMs: number;
  release(): void;
}

const NO_LIMIT: SaturationSlot = { waitedMs: 0, release: () => undefined };

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
    this.queue =
      config.maxConcurrentRequests === undefined
        ? undefined
        : new FairQueue({ capacity: config.maxConcurrentRequests, maxWaiting: config.maxWaiting, timeoutMs: config.queueTimeoutMs, clock });
    this.retryAfterSeconds = Math.max(1, Math.ceil(config.queueTimeoutMs / 10_000));
    metrics.observeSaturation(() => ({ active: this.queue?.active ?? 0, waiting: this.queue?.waiting ?? 0 }));
  }

  /** The request's priority: the client's header when the config honours it, else `normal`. */
  priorityOf(header: string | string[] | undefined): Priority {
    if (!this.config.priorityHeader || typeof header !== 'string') return 'normal';
    const priority = header.trim().toLowerCase();
    return (PRIORITIES as readonly string[]).includes(priority) ? (priority as Priority) : 'normal';
  }

  /**
   * Waits for a slot for the request of `flow` (its key), or throws its refusal; `signal`: the client left. Without
   * a limit the slot comes at once, not a promise: no turn of the event loop.
   */
  acquire(flow: string, priority: Priority, signal: AbortSignal): SaturationSlot | Promise<SaturationSlot | undefined> {
    const queue = this.queue;
    if (!queue) return NO_LIMIT;
    return this.wait(queue, flow, priority, signal);
  }

  private async wait(queue: FairQueue, flow: string, priority: Priority, signal: AbortSignal): Promise<SaturationSlot | undefined> {
    const entry = await queue.enter(flow, priority, 1, signal);
    if (entry.waitedMs > 0 || !entry.ok) this.metrics.recordQueueWait(entry.ok ? 'admitted' : entry.reason, priority, entry.waitedMs);
    if (entry.ok) {
      let released = false;
      return {
        waitedMs: entry.waitedMs,
        release: () => {
          if (released) return;
          released = true;
          queue.leave();
        },
      };
    }
    if (entry.reason === 'aborted') return undefined;
    if (entry.reason === 'over_share') {
      throw new GatewayError('This gateway is saturated and your key already holds the largest share of its queue; retry shortly.', {
        status: 429,
        code: 'queue_share_exceeded',
        type: 'rate_limit_error',
        retryable: true,
        retryAfterSeconds: this.retryAfterSeconds,
      });
    }
    throw new GatewayError(`This gateway is saturated: no slot freed within ${this.config.queueTimeoutMs} ms; retry shortly.`, {
      status: 503,
      code: 'gateway_saturated',
      type: 'server_error',
      retryable: true,
      retryAfterSeconds: this.retryAfterSeconds,
    });
  }
}
