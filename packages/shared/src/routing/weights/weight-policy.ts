/**
 * How probe results and the replicas' rolling stats become a routing weight. Each field states its default and
 * what that default does to a deployment; `DEFAULT_WEIGHT_POLICY` holds them all.
 */
export interface WeightPolicy {
  /**
   * Consecutive failed probes that take a deployment down (weight 0). Default 2: a deployment that starts failing
   * is drained within two probe intervals, and one failed probe only lowers its weight.
   */
  readonly failuresToDown: number;
  /**
   * Consecutive successful probes a down deployment needs before any weight returns. Default 3: hysteresis, so one
   * lucky probe between failures does not bring it back.
   */
  readonly successesToRecover: number;
  /**
   * Successful probes over which a recovering deployment climbs back to full weight, in equal steps of
   * 1/recoverySteps. Default 4: 25% → 50% → 75% → 100% of the configured weight. The first step is granted by the
   * probe that completes `successesToRecover`.
   */
  readonly recoverySteps: number;
  /**
   * Weight of the newest observation in the health score's exponential moving average, in (0, 1]. Default 0.3: one
   * failed probe lowers a healthy deployment to 70%; a sustained change shows fully after about eight steps.
   */
  readonly smoothingFactor: number;
  /**
   * When the moving average comes within this distance of the observation, it takes the observation, so a
   * recovered deployment returns exactly to its configured weight instead of approaching it forever. Default 0.02.
   */
  readonly settleTolerance: number;
  /**
   * The lowest fraction of its configured weight a deployment keeps while it is not down, in (0, 1]. Default 0.1:
   * error rates and latency can lower a live deployment to 10%, never to 0; only failed probes drain it.
   */
  readonly minimumWeightFraction: number;
  /** An error rate up to this one costs nothing. Default 0.05 (5%). */
  readonly errorRateThreshold: number;
  /**
   * The error rate at which the error penalty is complete; between the threshold and this rate the penalty grows
   * in proportion. Default 0.5: 10% errors → 89% of the weight, 20% → 67%, 30% → 44%, 50% or more → the minimum.
   */
  readonly errorRateForMinimum: number;
  /**
   * The rolling stats' error rate counts only with at least this many requests in the window; below it the rate is
   * noise (1 error in 5 requests is 20%). Default 20.
   */
  readonly minimumRequestsForErrorRate: number;
  /**
   * A successful probe slower than this multiple of the deployment's own baseline lowers its weight. Default 2.
   */
  readonly latencyToleranceRatio: number;
  /**
   * The most latency alone can take: the latency factor is `tolerance / ratio`, never below this. Default 0.5: a
   * probe 3× the baseline → 67%, 4× or slower → 50%.
   */
  readonly latencyMinimumFactor: number;
  /**
   * Weight of each successful probe's latency in the baseline's moving average. Default 0.02: a sudden slowdown is
   * penalised, a lasting one becomes the new normal after about 20 probes (5 minutes at a 15 s interval).
   */
  readonly latencyBaselineFactor: number;
  /**
   * Baselines below this are compared as this, so that jitter on a very fast backend (2 ms → 6 ms) is not a
   * slowdown. Default 50 ms.
   */
  readonly latencyNoiseFloorMs: number;
}

export const DEFAULT_WEIGHT_POLICY: WeightPolicy = Object.freeze({
  failuresToDown: 2,
  successesToRecover: 3,
  recoverySteps: 4,
  smoothingFactor: 0.3,
  settleTolerance: 0.02,
  minimumWeightFraction: 0.1,
  errorRateThreshold: 0.05,
  errorRateForMinimum: 0.5,
  minimumRequestsForErrorRate: 20,
  latencyToleranceRatio: 2,
  latencyMinimumFactor: 0.5,
  latencyBaselineFactor: 0.02,
  latencyNoiseFloorMs: 50,
});

/** The defaults with `overrides` applied. Throws a RangeError naming the first field out of range. */
export function createWeightPolicy(overrides: Partial<WeightPolicy> = {}): WeightPolicy {
  const policy: WeightPolicy = Object.freeze({ ...DEFAULT_WEIGHT_POLICY, ...overrides });
  const problem = weightPolicyProblem(policy);
  if (problem !== undefined) throw new RangeError(`weight policy: ${problem}`);
  return policy;
}

/** The first field out of range, in words, or undefined when the policy is usable. */
export function weightPolicyProblem(policy: WeightPolicy): string | undefined {
  const checks: [field: keyof WeightPolicy, valid: boolean, expected: string][] = [
    ['failuresToDown', isCount(policy.failuresToDown), 'an integer ≥ 1'],
    ['successesToRecover', isCount(policy.successesToRecover), 'an integer ≥ 1'],
    ['recoverySteps', isCount(policy.recoverySteps), 'an integer ≥ 1'],
    ['smoothingFactor', policy.smoothingFactor > 0 && policy.smoothingFactor <= 1, 'in (0, 1]'],
    ['settleTolerance', policy.settleTolerance >= 0 && policy.settleTolerance < 1, 'in [0, 1)'],
    ['minimumWeightFraction', policy.minimumWeightFraction > 0 && policy.minimumWeightFraction <= 1, 'in (0, 1]'],
    ['errorRateThreshold', policy.errorRateThreshold >= 0 && policy.errorRateThreshold < 1, 'in [0, 1)'],
    [
      'errorRateForMinimum',
      policy.errorRateForMinimum > policy.errorRateThreshold && policy.errorRateForMinimum <= 1,
      'above errorRateThreshold and at most 1',
    ],
    ['minimumRequestsForErrorRate', policy.minimumRequestsForErrorRate >= 0, '≥ 0'],
    ['latencyToleranceRatio', policy.latencyToleranceRatio >= 1, '≥ 1'],
    ['latencyMinimumFactor', policy.latencyMinimumFactor >= 0 && policy.latencyMinimumFactor <= 1, 'in [0, 1]'],
    ['latencyBaselineFactor', policy.latencyBaselineFactor > 0 && policy.latencyBaselineFactor <= 1, 'in (0, 1]'],
    ['latencyNoiseFloorMs', policy.latencyNoiseFloorMs >= 0, '≥ 0'],
  ];
  for (const [field, valid, expected] of checks) {
    // NaN fails every comparison above, so it is reported here too.
    if (!valid) return `${field} must be ${expected}, got ${String(policy[field])}`;
  }
  return undefined;
}

function isCount(value: number): boolean {
  return Number.isInteger(value) && value >= 1;
}
