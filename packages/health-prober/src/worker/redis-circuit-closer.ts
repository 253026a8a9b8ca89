import type { BreakerEvent, BreakerStore, RedisClient, RedisKeys } from '@dosrouter/shared';
import type { CircuitCloser } from '../deployment-prober.js';

/**
 * Cluster mode: a successful probe closes a circuit the gateways opened because of errors, by the same path a
 * gateway closes one (the key deleted, the change announced), so every replica closes it within its poll. A circuit
 * a backend's 429 opened (cause `rate_limit`) stays open for the time the backend asked.
 */
export function redisCircuitCloser(redis: RedisClient, keys: RedisKeys, store: Pick<BreakerStore, 'publish'>, prober: string): CircuitCloser {
  return async (deploymentId) => {
    const text = await redis.get(keys.breaker(deploymentId));
    if (text === null) return false;
    let opened: Partial<BreakerEvent> = {};
    try {
      opened = JSON.parse(text) as Partial<BreakerEvent>;
    } catch {
      // An opening this release cannot read is closed like one caused by errors.
    }
    if (opened.cause === 'rate_limit') return false;
    await store.publish({ deploymentId, state: 'closed', replica: prober, reason: 'a health probe succeeded' });
    return true;
  };
}
