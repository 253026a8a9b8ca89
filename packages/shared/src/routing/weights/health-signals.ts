import type { DeploymentStats } from '../../state/rolling-stats.js';
import type { WeightPolicy } from './weight-policy.js';

/**
 * The share of its weight a deployment keeps for its error rate in the replicas' rolling stats: 1 up to the
 * threshold, falling in proportion to 0 at `errorRateForMinimum`. Undefined when there is no evidence: no stats, or
 * fewer requests than `minimumRequestsForErrorRate`.
 */
export function errorRateFactor(stats: DeploymentStats | undefined, policy: WeightPolicy): number | undefined {
  if (stats === undefined || !(stats.requests >= policy.minimumRequestsForErrorRate)) return undefined;
  if (!Number.isFinite(stats.errorRate)) return undefined;
  const errorRate = clampUnit(stats.errorRate);
  if (errorRate <= policy.errorRateThreshold) return 1;
  const penalty = (errorRate - policy.errorRateThreshold) / (policy.errorRateForMinimum - policy.errorRateThreshold);
  return clampUnit(1 - penalty);
}

/**
 * The share of its weight a deployment keeps for one successful probe's latency against its own baseline: 1 within
 * `latencyToleranceRatio`, then `tolerance / ratio`, never below `latencyMinimumFactor`. Undefined before there is
 * a baseline. Probe latency rather than the replicas' mean latency is compared, because the probe is the same
 * request every time, while traffic latency moves with prompt and answer sizes.
 */
export function latencyFactor(latencyMs: number, baselineMs: number | undefined, policy: WeightPolicy): number | undefined {
  if (baselineMs === undefined || !isUsableLatency(latencyMs)) return undefined;
  const reference = Math.max(baselineMs, policy.latencyNoiseFloorMs);
  if (reference <= 0) return undefined;
  const ratio = latencyMs / reference;
  if (ratio <= policy.latencyToleranceRatio) return 1;
  return Math.max(policy.latencyMinimumFactor, policy.latencyToleranceRatio / ratio);
}

/** The baseline after one more successful probe: a slow moving average, seeded by the first probe. */
export function nextLatencyBaseline(baselineMs: number | undefined, latencyMs: number, policy: WeightPolicy): number | undefined {
  if (!isUsableLatency(latencyMs)) return baselineMs;
  if (baselineMs === undefined) return latencyMs;
  return baselineMs + policy.latencyBaselineFactor * (latencyMs - baselineMs);
}

/** The health score after one observation: an exponential moving average that settles on the observation. */
export function smoothScore(previousScore: number, observation: number | undefined, policy: WeightPolicy): number {
  if (observation === undefined) return previousScore;
  const next = previousScore + policy.smoothingFactor * (observation - previousScore);
  return clampUnit(Math.abs(next - observation) <= policy.settleTolerance ? observation : next);
}

export function clampUnit(value: number): number {
  return Math.min(1, Math.max(0, value));
}

function isUsableLatency(latencyMs: number): boolean {
  return Number.isFinite(latencyMs) && latencyMs >= 0;
}
