import { performance } from 'node:perf_hooks';
import type { Logger } from '@dosrouter/shared';
import type { ProbePlan } from './probe-plan.js';
import { runPlannedProbe } from './probe-plan.js';
import type { ProbeResult } from './probes/probe-result.js';
import type { ProberMetrics } from './telemetry/prober-metrics.js';
import type { WeightsKeeper } from './weights/weights-keeper.js';
import type { WeightsUpdate } from './weights/weights-store.js';

/**
 * Closes a deployment's open circuit after a successful probe that started at `probeStartedAt` (ms since the
 * epoch), unless a backend's Retry-After holds it or it opened after the probe started; true if it closed it.
 */
export type CircuitCloser = (deploymentId: string, probeStartedAt: number) => Promise<boolean>;

export interface ProbeReport {
  readonly deploymentId: string;
  readonly result: ProbeResult;
  readonly weight: number | undefined;
  readonly state: string | undefined;
  readonly circuitClosed: boolean;
}

export interface DeploymentProberOptions {
  readonly keeper: WeightsKeeper;
  readonly logger: Logger;
  readonly metrics?: ProberMetrics;
  readonly closeCircuit?: CircuitCloser;
  /** Defaults to Date.now: when a probe finished, as the weights engine counts it. */
  readonly clock?: () => number;
}

/**
 * One probe of one deployment from start to publication, the same in the BullMQ worker and on embedded timers:
 * run the probe, count it, step the weights, log any state change, and close an open circuit it proves wrong.
 */
export class DeploymentProber {
  private readonly clock: () => number;
  /** Deployments whose probe warning was logged: once per deployment and process, not every interval. */
  private readonly warned = new Set<string>();

  constructor(private readonly options: DeploymentProberOptions) {
    this.clock = options.clock ?? Date.now;
  }

  async probe(plan: ProbePlan): Promise<ProbeReport> {
    const { keeper, metrics, logger } = this.options;
    const startedAt = this.clock();
    const busyBefore = performance.eventLoopUtilization();
    const result = await runPlannedProbe(plan);
    const busyMs = performance.eventLoopUtilization(busyBefore).active;
    metrics?.recordProbe(plan.deploymentId, plan.settings.kind, result);
    if (!result.ok) {
      logger.debug('probe failed', { deployment: plan.deploymentId, kind: plan.settings.kind, reason: result.reason, status: result.status });
    }
    if (result.warning !== undefined && !this.warned.has(plan.deploymentId)) {
      this.warned.add(plan.deploymentId);
      logger.warn('probe warning', { deployment: plan.deploymentId, kind: plan.settings.kind, warning: result.warning });
    }
    const latencyMs = backendLatencyMs(result.latencyMs, busyMs);
    if (result.timedOut && busyMs >= plan.target.timeoutMs / 10 && latencyMs < plan.target.timeoutMs) {
      // Its deadline passed while this process was busy (a tenth of it or more): the answer may have been waiting
      // to be read. No verdict. (A timeout on an idle loop counts; traffic's own timeouts still move the circuit.)
      logger.debug('probe timed out while the event loop was busy: not counted', { deployment: plan.deploymentId, latencyMs: result.latencyMs, busyMs });
      return { deploymentId: plan.deploymentId, result, weight: undefined, state: undefined, circuitClosed: false };
    }
    const update = await keeper.recordProbe(plan.deploymentId, {
      ok: result.ok,
      latencyMs,
      at: this.clock(),
      ...(result.ttftMs === undefined ? {} : { ttftMs: result.ttftMs }),
    });
    this.published(update);
    const circuitClosed = result.ok && this.options.closeCircuit !== undefined && (await this.closeCircuit(plan.deploymentId, startedAt));
    const record = update.health.get(plan.deploymentId);
    return { deploymentId: plan.deploymentId, result, weight: record?.weight, state: record?.state, circuitClosed };
  }

  /** A recompute from the replicas' stats alone. */
  async recompute(): Promise<WeightsUpdate> {
    const update = await this.options.keeper.recompute();
    this.published(update);
    return update;
  }

  private published(update: WeightsUpdate): void {
    this.options.metrics?.recordUpdate(update);
    logTransitions(update, this.options.logger);
  }

  private async closeCircuit(deploymentId: string, probeStartedAt: number): Promise<boolean> {
    try {
      const closed = await this.options.closeCircuit!(deploymentId, probeStartedAt);
      if (closed) this.options.metrics?.recordCircuitClosed(deploymentId);
      return closed;
    } catch (error) {
      this.options.logger.warn('could not close a circuit after a successful probe', { deployment: deploymentId, error: (error as Error).message });
      return false;
    }
  }
}

/**
 * What a probe's latency says of the backend: the time it took less the time this process's event loop was busy
 * meanwhile. An answer that arrived while the loop ran other work (an embedded prober inside a gateway carrying
 * thousands of streams) waited at most that long for it, so the difference is a lower bound of the backend's own
 * latency: the gateway's lag never degrades a backend. An idle prober process subtracts next to nothing. The
 * observed figure still goes to the probe metrics. For the same reason a probe that timed out while the loop was
 * busy (a tenth of its deadline or more, and too long to leave the backend its whole deadline) is not counted.
 */
export function backendLatencyMs(observedMs: number, busyMs: number): number {
  return Math.max(0, Math.round((observedMs - Math.max(0, busyMs)) * 100) / 100);
}

/** One log line per deployment whose health state changed: drained (warn), and recovering or back (info). */
export function logTransitions(update: WeightsUpdate, logger: Logger): void {
  for (const [deploymentId, record] of update.health) {
    const before = update.previous.get(deploymentId);
    if (before?.state === record.state || (before === undefined && record.state === 'healthy')) continue;
    const fields = { deployment: deploymentId, from: before?.state ?? 'new', to: record.state, weight: record.weight, generation: update.document.generation };
    if (record.state === 'down' || record.state === 'degraded') logger.warn('deployment health changed', fields);
    else logger.info('deployment health changed', fields);
  }
}
