import type { DeploymentStats } from '../../state/rolling-stats.js';
import { initialHealth, usableWeight, type DeploymentHealth, type HealthState } from './deployment-health.js';
import { clampUnit, errorRateFactor, latencyFactor, nextLatencyBaseline, smoothScore } from './health-signals.js';
import { DEFAULT_WEIGHT_POLICY, type WeightPolicy } from './weight-policy.js';

/** What one probe of one deployment saw. */
export interface ProbeOutcome {
  readonly ok: boolean;
  readonly latencyMs: number;
  /** Carried for the record; the engine compares `latencyMs`, which every probe has. */
  readonly ttftMs?: number;
  /** When the probe finished (ms). A probe not newer than the last one counted is ignored, so a retried step does not count it twice. */
  readonly at: number;
}

/** Everything one step knows about one deployment. */
export interface HealthInput {
  /** The weight from config; negative or non-finite counts as 0. */
  readonly configuredWeight: number;
  /** This step's probe, if the deployment was probed since the last step. */
  readonly probe?: ProbeOutcome;
  /** The replicas' rolling stats over the last minute. */
  readonly stats?: DeploymentStats;
  /** The injected clock (ms). */
  readonly now: number;
}

/**
 * One step of a deployment's health, a pure function of the previous record, this step's evidence and the policy.
 *
 * - Failed probes: `failuresToDown` in a row → down (weight 0); fewer only lower the score. Any failure while
 *   recovering → down again: a deployment on probation gets no second chance.
 * - Down: `successesToRecover` successful probes in a row → recovering at 1/recoverySteps of the weight; each later
 *   successful probe climbs one step; the last step makes it healthy (or degraded if the score is below 1).
 * - Alive (healthy, degraded, recovering): the score is a moving average of observations, each the product of what
 *   this step saw: a failed probe is 0, a successful one is its latency factor, the stats give their error-rate
 *   factor. The weight is configured × score (× the ramp while recovering), never below `minimumWeightFraction`.
 *   Stats alone never take a deployment down; cluster-wide fast failure is the circuit breakers' job.
 * - A step with nothing new (no probe, too few requests) keeps the score.
 */
export function nextHealth(
  previous: DeploymentHealth | undefined,
  input: HealthInput,
  policy: WeightPolicy = DEFAULT_WEIGHT_POLICY,
): DeploymentHealth {
  const configuredWeight = usableWeight(input.configuredWeight);
  const start = previous ?? initialHealth(configuredWeight, input.now);
  const probe = countedProbe(start, input.probe);

  const consecutiveSuccesses = probe === undefined ? start.consecutiveSuccesses : probe.ok ? start.consecutiveSuccesses + 1 : 0;
  const consecutiveFailures = probe === undefined ? start.consecutiveFailures : probe.ok ? 0 : start.consecutiveFailures + 1;
  const observation = observe(probe, start.latencyBaselineMs, input.stats, policy);
  const latencyBaselineMs = probe?.ok
    ? nextLatencyBaseline(start.latencyBaselineMs, probe.latencyMs, policy)
    : start.latencyBaselineMs;
  const lastProbeAt = probe?.at ?? start.lastProbeAt;

  const step = nextStep(start, probe, consecutiveSuccesses, consecutiveFailures, observation, policy);
  const fraction = weightFraction(step, policy);
  const state: HealthState = step.phase === 'alive' ? (fraction >= 1 ? 'healthy' : 'degraded') : step.phase;
  return {
    weight: configuredWeight * fraction,
    score: step.score,
    state,
    consecutiveSuccesses,
    consecutiveFailures,
    recoveryStep: step.recoveryStep,
    ...(latencyBaselineMs === undefined ? {} : { latencyBaselineMs }),
    ...(lastProbeAt === undefined ? {} : { lastProbeAt }),
    lastChangeAt: state === start.state ? start.lastChangeAt : input.now,
  };
}

/** Where the state machine stands after a step; healthy and degraded are both `alive`, told apart by the weight. */
interface Step {
  readonly phase: 'alive' | 'down' | 'recovering';
  readonly score: number;
  readonly recoveryStep: number;
}

const DOWN: Step = { phase: 'down', score: 0, recoveryStep: 0 };

function nextStep(
  start: DeploymentHealth,
  probe: ProbeOutcome | undefined,
  consecutiveSuccesses: number,
  consecutiveFailures: number,
  observation: number | undefined,
  policy: WeightPolicy,
): Step {
  const failed = probe !== undefined && !probe.ok;
  if (failed && (consecutiveFailures >= policy.failuresToDown || start.state === 'recovering')) return DOWN;
  if (start.state === 'down') {
    // Coming back, the ramp is the smoothing: the score restarts from what this probe and the stats show.
    if (probe?.ok && consecutiveSuccesses >= policy.successesToRecover) return climb(1, observation ?? 1, policy);
    return DOWN;
  }
  const score = smoothScore(start.score, observation, policy);
  if (start.state === 'recovering') {
    const current = Math.max(1, start.recoveryStep);
    return climb(probe?.ok ? current + 1 : current, score, policy);
  }
  return { phase: 'alive', score, recoveryStep: 0 };
}

function climb(recoveryStep: number, score: number, policy: WeightPolicy): Step {
  if (recoveryStep >= policy.recoverySteps) return { phase: 'alive', score, recoveryStep: 0 };
  return { phase: 'recovering', score, recoveryStep };
}

function weightFraction(step: Step, policy: WeightPolicy): number {
  if (step.phase === 'down') return 0;
  const ramp = step.phase === 'recovering' ? step.recoveryStep / policy.recoverySteps : 1;
  return clampUnit(Math.max(policy.minimumWeightFraction, ramp * step.score));
}

/** This step's evidence as one number in [0, 1], or undefined when there is none. */
function observe(
  probe: ProbeOutcome | undefined,
  latencyBaselineMs: number | undefined,
  stats: DeploymentStats | undefined,
  policy: WeightPolicy,
): number | undefined {
  if (probe !== undefined && !probe.ok) return 0;
  const factors: number[] = [];
  if (probe !== undefined) factors.push(latencyFactor(probe.latencyMs, latencyBaselineMs, policy) ?? 1);
  const errors = errorRateFactor(stats, policy);
  if (errors !== undefined) factors.push(errors);
  if (factors.length === 0) return undefined;
  return factors.reduce((product, factor) => product * factor, 1);
}

function countedProbe(start: DeploymentHealth, probe: ProbeOutcome | undefined): ProbeOutcome | undefined {
  if (probe === undefined || !Number.isFinite(probe.at)) return undefined;
  if (start.lastProbeAt !== undefined && probe.at <= start.lastProbeAt) return undefined;
  return probe;
}
