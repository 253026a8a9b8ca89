import { Queue, Worker, type Job } from 'bullmq';
import type { Logger, RedisClient } from '@dosrouter/shared';
import type { DeploymentProber } from '../deployment-prober.js';
import type { ProbePlan } from '../probe-plan.js';

/** The queue of probe jobs; its keys are `<prefix>:v1:{queues}:probes:…`. */
export const PROBE_QUEUE_NAME = 'probes';
/** Job names: one probe of one deployment, and one recompute of every weight from the replicas' stats. */
export const PROBE_JOB = 'probe';
export const RECOMPUTE_JOB = 'recompute';
/** The scheduler of the periodic recompute; each deployment's scheduler is `probe:<deployment id>`. */
export const RECOMPUTE_SCHEDULER_ID = 'weights:recompute';
const PROBE_SCHEDULER_PREFIX = 'probe:';

/** Finished jobs kept for bull-board and redis-cli; the rest are removed as they finish. */
const KEEP_JOBS = { count: 500, age: 24 * 3600 };

export function probeSchedulerId(deploymentId: string): string {
  return `${PROBE_SCHEDULER_PREFIX}${deploymentId}`;
}

/** What a scheduler puts in each probe job: the deployment, and the probe's kind for people reading the queue. */
export interface ProbeJobData {
  readonly deploymentId: string;
  readonly kind?: string;
}

export interface SchedulerChanges {
  readonly upserted: string[];
  readonly removed: string[];
}

/**
 * Makes the queue's schedulers match the config: one per probed deployment (upserted, so a changed interval or
 * kind takes effect) and the recompute; schedulers of deployments no longer probed are removed. Every prober runs
 * this at start; it is idempotent, and BullMQ keeps one next job per scheduler, so running it on several probers
 * at once neither doubles a schedule nor loses one.
 */
export async function reconcileSchedulers(queue: Queue, plans: readonly ProbePlan[], recomputeIntervalMs: number): Promise<SchedulerChanges> {
  const wanted = new Set<string>([RECOMPUTE_SCHEDULER_ID]);
  const upserted: string[] = [];
  for (const plan of plans) {
    const id = probeSchedulerId(plan.deploymentId);
    wanted.add(id);
    const data: ProbeJobData = { deploymentId: plan.deploymentId, kind: plan.settings.kind };
    await queue.upsertJobScheduler(
      id,
      { every: plan.settings.intervalMs },
      { name: PROBE_JOB, data, opts: { removeOnComplete: KEEP_JOBS, removeOnFail: KEEP_JOBS } },
    );
    upserted.push(id);
  }
  await queue.upsertJobScheduler(
    RECOMPUTE_SCHEDULER_ID,
    { every: recomputeIntervalMs },
    { name: RECOMPUTE_JOB, data: {}, opts: { removeOnComplete: KEEP_JOBS, removeOnFail: KEEP_JOBS } },
  );
  upserted.push(RECOMPUTE_SCHEDULER_ID);
  const removed: string[] = [];
  for (const scheduler of await queue.getJobSchedulers(0, -1)) {
    const id = scheduler.id ?? scheduler.key;
    if (wanted.has(id)) continue;
    await queue.removeJobScheduler(id);
    removed.push(id);
  }
  return { upserted, removed };
}

export interface ProbeWorkerOptions {
  readonly connection: RedisClient;
  readonly prefix: string;
  /** The plans as they start; a reload hands the worker new ones (`ProbeWorker.usePlans`). */
  readonly plans: readonly ProbePlan[];
  readonly prober: DeploymentProber;
  readonly concurrency: number;
  readonly logger: Logger;
}

/**
 * A worker that takes probe and recompute jobs off the queue. Several prober processes each run one; BullMQ hands
 * every job to exactly one of them. A failed probe is a result, not a failed job; a job fails only when the step
 * itself could not finish (Redis gone), and the next interval's job tries again.
 */
export function createProbeWorker(options: ProbeWorkerOptions): ProbeWorker {
  let plans = new Map(options.plans.map((plan) => [plan.deploymentId, plan] as const));
  const longestTimeoutMs = Math.max(0, ...options.plans.map((plan) => plan.settings.timeoutMs));
  const worker = new Worker<ProbeJobData | Record<string, never>>(
    PROBE_QUEUE_NAME,
    async (job: Job<ProbeJobData | Record<string, never>>) => {
      if (job.name === RECOMPUTE_JOB) {
        const update = await options.prober.recompute();
        return { generation: update.document.generation, changed: update.changed };
      }
      const deploymentId = 'deploymentId' in job.data ? job.data.deploymentId : undefined;
      const plan = deploymentId === undefined ? undefined : plans.get(deploymentId);
      // A job for a deployment this prober's config does not have (another prober's newer config): not ours to judge.
      if (plan === undefined) return { skipped: 'not in this prober’s config' };
      const report = await options.prober.probe(plan);
      return {
        ok: report.result.ok,
        latencyMs: report.result.latencyMs,
        ...(report.result.reason === undefined ? {} : { reason: report.result.reason }),
        weight: report.weight,
        state: report.state,
        circuitClosed: report.circuitClosed,
      };
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      // A job's lock must outlive its probe, or BullMQ would think the worker died and hand the job to another.
      lockDuration: Math.max(30_000, 2 * longestTimeoutMs),
      autorun: false,
    },
  );
  worker.on('failed', (job, error) => {
    options.logger.warn('probe job failed', { job: job?.name, deployment: (job?.data as ProbeJobData | undefined)?.deploymentId, error: error.message });
  });
  worker.on('error', (error) => options.logger.warn('probe worker error', { error: error.message }));
  return Object.assign(worker, {
    usePlans: (next: readonly ProbePlan[]) => {
      plans = new Map(next.map((plan) => [plan.deploymentId, plan] as const));
    },
  });
}

/** The probe worker, which a config reload hands the new plans (jobs taken after it probe with them). */
export type ProbeWorker = Worker<ProbeJobData | Record<string, never>> & { usePlans(plans: readonly ProbePlan[]): void };

export function createProbeQueue(connection: RedisClient, prefix: string, logger: Logger): Queue {
  const queue = new Queue(PROBE_QUEUE_NAME, { connection, prefix });
  queue.on('error', (error) => logger.warn('probe queue error', { error: error.message }));
  return queue;
}
