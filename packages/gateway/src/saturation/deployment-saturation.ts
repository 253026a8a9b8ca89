import { GatewayError, type Deployment, type GatewayConfig } from '@dosrouter/shared';
import type { DeploymentSlotPool, DeploymentSlots } from '../cluster/deployment-slots.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import { FairQueue } from './fair-queue.js';
import type { QueuePlace } from './queue-place.js';
import { NO_LIMIT, queueSlot, refusalOf, retryAfterSecondsOf, type SaturationSlot } from './saturation-slot.js';

interface LimitedDeployment {
  readonly pool: DeploymentSlotPool;
  readonly queue: FairQueue;
}

/**
 * Deployments' `maxConcurrent`: the requests the gateway sends each at once, cluster-wide in cluster mode. A
 * request first looks for a deployment with room without waiting (`tryAcquire`), so that saturation of one sends it
 * to another; only when none has room does it wait its fair turn for one (`acquire`: the same deficit round robin by
 * key weight and priority as the replica's queue) until its deadline, then gets 503 `deployment_saturated`. None of
 * this reaches a circuit, the rolling stats or the weights: a full deployment is not a failing one.
 */
export class DeploymentSaturation {
  private readonly limited = new Map<string, LimitedDeployment>();
  private readonly retryAfterSeconds: number;
  /** A request's whole wait, in the replica's queue and a deployment's together, ends by this deadline. */
  readonly queueTimeoutMs: number;

  constructor(
    deployments: readonly Deployment[],
    private readonly slots: DeploymentSlots,
    private readonly config: GatewayConfig['saturation'],
    private readonly metrics: GatewayMetrics,
    private readonly clock: () => number,
  ) {
    this.useDeployments(deployments);
    this.retryAfterSeconds = retryAfterSecondsOf(config.queueTimeoutMs);
    this.queueTimeoutMs = config.queueTimeoutMs;
    metrics.observeDeploymentSaturation(() => [...this.limited].map(([deployment, { pool, queue }]) => ({ deployment, active: pool.active, waiting: queue.waiting })));
  }

  /**
   * The deployments a (reloaded) config has: a pool and queue for each new one with `maxConcurrent`; a changed limit
   * applies to the pool it has (slots held past a lower limit stay held until released); a deployment that lost its
   * limit is no longer limited, and its held slots are given back as their requests end.
   */
  useDeployments(deployments: readonly Deployment[]): void {
    const wanted = new Set<string>();
    for (const deployment of deployments) {
      if (deployment.maxConcurrent === undefined) continue;
      wanted.add(deployment.id);
      const existing = this.limited.get(deployment.id);
      if (existing) {
        existing.pool.resize(deployment.maxConcurrent);
        existing.queue.refill();
        continue;
      }
      const pool = this.slots.poolFor(deployment, deployment.maxConcurrent);
      this.limited.set(deployment.id, { pool, queue: new FairQueue({ slots: pool, maxWaiting: this.config.maxWaiting, timeoutMs: this.config.queueTimeoutMs, clock: this.clock }) });
    }
    for (const id of this.limited.keys()) if (!wanted.has(id)) this.limited.delete(id);
  }

  /**
   * A slot on `deployment` if it has room now and nobody waits for it; undefined when it is full. Never waits in
   * the queue. Without a limit: a slot at once, without a promise. (Cluster mode: one Redis round trip.)
   */
  tryAcquire(deployment: Deployment): SaturationSlot | undefined | Promise<SaturationSlot | undefined> {
    const limited = this.limited.get(deployment.id);
    if (!limited) return NO_LIMIT;
    const { queue, pool } = limited;
    if (queue.waiting > 0) return undefined;
    const taken = pool.take(0);
    if (taken === true) return queueSlot(queue, 0);
    if (taken === false) return undefined;
    return taken.then((ok) => (ok ? queueSlot(queue, 0) : undefined));
  }

  /**
   * Waits at most `timeoutMs` for a slot on any of `deployments` (full ones, best first), at the request's `place` in
   * each of their queues: the first to free one wins, and the request leaves the other queues at once. Undefined
   * when the client left (`signal`). Throws 503 `deployment_saturated` at the deadline, 429 `queue_share_exceeded`
   * when the queues were full and the key held the most places, both with Retry-After.
   */
  async acquire(deployments: readonly Deployment[], place: QueuePlace, timeoutMs: number, signal: AbortSignal): Promise<{ deployment: Deployment; slot: SaturationSlot } | undefined> {
    const candidates = deployments.flatMap((deployment) => {
      const limited = this.limited.get(deployment.id);
      return limited ? [{ deployment, queue: limited.queue }] : [];
    });
    if (candidates.length === 0 || timeoutMs <= 0) throw saturated(deployments[0]!, Math.max(0, timeoutMs), this.retryAfterSeconds);
    // One signal for the whole race: the client leaving, or a winner, ends every other wait.
    const race = new AbortController();
    const end = (): void => race.abort();
    signal.addEventListener('abort', end, { once: true });
    if (signal.aborted) race.abort();
    let winner: { deployment: Deployment; slot: SaturationSlot } | undefined;
    const entries = await Promise.all(
      candidates.map(async ({ deployment, queue }) => {
        const entry = await queue.enter(place.flow, place.priority, place.weight, race.signal, timeoutMs);
        if (entry.ok) {
          const slot = queueSlot(queue, entry.waitedMs);
          // Two freed at once: the second goes straight back to its queue's next waiter.
          if (winner) slot.release();
          else {
            winner = { deployment, slot };
            race.abort();
          }
        }
        return { deployment, entry };
      }),
    );
    signal.removeEventListener('abort', end);
    if (winner) {
      this.metrics.recordDeploymentQueueWait(winner.deployment.id, 'admitted', place.priority, winner.slot.waitedMs);
      return winner;
    }
    if (signal.aborted) return undefined;
    // The deadline ran out on one queue at least (503), or every queue refused the key for its share (429).
    const refused = entries.find(({ entry }) => !entry.ok && entry.reason === 'timeout') ?? entries[0]!;
    this.metrics.recordDeploymentQueueWait(refused.deployment.id, refused.entry.ok ? 'admitted' : refused.entry.reason, place.priority, refused.entry.waitedMs);
    const reason = refused.entry.ok || refused.entry.reason === 'aborted' ? 'timeout' : refused.entry.reason;
    throw refusalOf(reason, this.retryAfterSeconds, () => saturated(refused.deployment, timeoutMs, this.retryAfterSeconds));
  }
}

function saturated(deployment: Deployment, waitedMs: number, retryAfterSeconds: number): GatewayError {
  return new GatewayError(
    `Every deployment of ${deployment.model} is at its concurrency limit, and none freed a slot within ${Math.max(0, Math.round(waitedMs))} ms; retry shortly.`,
    { status: 503, code: 'deployment_saturated', type: 'server_error', retryable: true, retryAfterSeconds },
  );
}
