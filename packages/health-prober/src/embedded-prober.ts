import type { Logger } from '@dosrouter/shared';
import type { DeploymentProber } from './deployment-prober.js';
import type { ProbePlan } from './probe-plan.js';

export interface EmbeddedProberOptions {
  readonly plans: readonly ProbePlan[];
  readonly prober: DeploymentProber;
  readonly recomputeIntervalMs: number;
  readonly logger: Logger;
}

/**
 * Embedded mode (one gateway, no Redis): the prober's code on timers instead of BullMQ schedules. Each deployment
 * is probed once per interval, the first time at a random point within its first interval (so that a config with
 * many deployments does not probe them all at once), and never twice at a time; the weights are recomputed from
 * the gateway's own stats between probes.
 */
export class EmbeddedProber {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(private readonly options: EmbeddedProberOptions) {}

  start(): void {
    for (const plan of this.options.plans) this.schedule(() => this.probe(plan), Math.random() * plan.settings.intervalMs, plan.settings.intervalMs);
    this.schedule(() => this.options.prober.recompute(), this.options.recomputeIntervalMs, this.options.recomputeIntervalMs);
  }

  /** Stops the timers and waits for the probes under way. */
  async close(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
  }

  private async probe(plan: ProbePlan): Promise<void> {
    await this.options.prober.probe(plan);
  }

  /** Runs `task` after `delayMs`, then every `intervalMs` from the start of the previous run, never overlapping. */
  private schedule(task: () => Promise<unknown>, delayMs: number, intervalMs: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const startedAt = Date.now();
      const run = task()
        .catch((error: unknown) => this.options.logger.warn('embedded prober step failed', { error: (error as Error).message }))
        .finally(() => {
          this.running.delete(run);
          this.schedule(task, Math.max(0, intervalMs - (Date.now() - startedAt)), intervalMs);
        });
      this.running.add(run);
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }
}
