export const HEALTH_STATES = ['healthy', 'degraded', 'down', 'recovering'] as const;

/**
 * - healthy: at its configured weight.
 * - degraded: alive, below its configured weight (a failed probe, errors, latency), never below the minimum fraction.
 * - down: weight 0, after `failuresToDown` failed probes in a row, or a failure while recovering.
 * - recovering: back after `successesToRecover` successes in a row, climbing in steps to its configured weight.
 */
export type HealthState = (typeof HEALTH_STATES)[number];

/**
 * What the prober keeps per deployment between runs. Plain JSON (numbers and strings, optional fields omitted),
 * so that it can be stored in Redis as is.
 */
export interface DeploymentHealth {
  /** The effective routing weight, from 0 to the configured weight. */
  readonly weight: number;
  /** Smoothed health in [0, 1]: 1 is nothing wrong seen lately, 0 while down. */
  readonly score: number;
  readonly state: HealthState;
  readonly consecutiveSuccesses: number;
  readonly consecutiveFailures: number;
  /** Position on the recovery ramp, 1 to recoverySteps − 1, while recovering; 0 otherwise. */
  readonly recoveryStep: number;
  /** Slow moving average of successful probe latencies; absent until the first successful probe. */
  readonly latencyBaselineMs?: number;
  /** `at` of the last probe counted; absent before the first. */
  readonly lastProbeAt?: number;
  /** When `state` last changed (ms), or when the record was created. */
  readonly lastChangeAt: number;
}

/** A deployment the prober has not seen yet is assumed healthy: that is the weight gateways use without a table. */
export function initialHealth(configuredWeight: number, now: number): DeploymentHealth {
  return {
    weight: usableWeight(configuredWeight),
    score: 1,
    state: 'healthy',
    consecutiveSuccesses: 0,
    consecutiveFailures: 0,
    recoveryStep: 0,
    lastChangeAt: now,
  };
}

export function isHealthState(value: unknown): value is HealthState {
  return typeof value === 'string' && (HEALTH_STATES as readonly string[]).includes(value);
}

/**
 * A stored record read back (already JSON-parsed), or undefined when it is not one: the prober then starts that
 * deployment afresh, as healthy at its configured weight.
 */
export function parseDeploymentHealth(value: unknown): DeploymentHealth | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  const { weight, score, state, consecutiveSuccesses, consecutiveFailures, recoveryStep } = record;
  const { latencyBaselineMs, lastProbeAt, lastChangeAt } = record;
  if (!isNonNegative(weight) || !isNonNegative(score) || score > 1 || !isHealthState(state)) return undefined;
  if (!isCount(consecutiveSuccesses) || !isCount(consecutiveFailures) || !isCount(recoveryStep)) return undefined;
  if (!isFiniteNumber(lastChangeAt)) return undefined;
  if (latencyBaselineMs !== undefined && !isNonNegative(latencyBaselineMs)) return undefined;
  if (lastProbeAt !== undefined && !isFiniteNumber(lastProbeAt)) return undefined;
  return {
    weight,
    score,
    state,
    consecutiveSuccesses,
    consecutiveFailures,
    recoveryStep,
    ...(latencyBaselineMs === undefined ? {} : { latencyBaselineMs }),
    ...(lastProbeAt === undefined ? {} : { lastProbeAt }),
    lastChangeAt,
  };
}

/** A configured weight as the engine uses it: negative or non-finite weights count as 0. */
export function usableWeight(configuredWeight: number): number {
  return Number.isFinite(configuredWeight) && configuredWeight > 0 ? configuredWeight : 0;
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isNonNegative(value: unknown): value is number {
  return isFiniteNumber(value) && value >= 0;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
