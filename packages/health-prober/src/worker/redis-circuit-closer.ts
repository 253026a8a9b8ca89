import type { BreakerEvent, RedisClient, RedisKeys, ScriptCommands } from '@dosrouter/shared';
import type { CircuitCloser } from '../deployment-prober.js';

/**
 * Cluster mode: a successful probe closes a circuit the gateways opened because of errors, by the same path a
 * gateway closes one (the key deleted, the change announced), so every replica closes it at once or on its next
 * poll. `closeCircuitAfterProbe.lua` checks and closes in one step: a circuit a backend's 429 opened, or one that
 * opened after the probe started, stays open.
 */
export function redisCircuitCloser(redis: RedisClient & ScriptCommands, keys: RedisKeys, prober: string): CircuitCloser {
  return async (deploymentId, probeStartedAt) => {
    const closed: BreakerEvent = { deploymentId, state: 'closed', replica: prober, reason: 'a health probe succeeded' };
    const result = await redis.dosrouterCloseCircuitAfterProbeV1(
      2,
      keys.breaker(deploymentId),
      keys.breakerTrial(deploymentId),
      Math.floor(probeStartedAt),
      keys.breakerChannel(),
      JSON.stringify(closed),
    );
    return result === 1;
  };
}
