import type { Deployment, RedisClient, RedisHealth, RedisKeys, ScriptCommands } from '@dosrouter/shared';
import { LocalSlots, type SlotPool } from '../saturation/fair-queue.js';

/** The slots of one deployment's `maxConcurrent`, and how many this replica holds. */
export interface DeploymentSlotPool extends SlotPool {
  readonly active: number;
  /** A config reload changed the deployment's `maxConcurrent`: takes from now on count against `limit`. */
  resize(limit: number): void;
}

/** Where each limited deployment's slots come from: this process (embedded) or every replica (Redis). */
export interface DeploymentSlots {
  poolFor(deployment: Deployment, limit: number): DeploymentSlotPool;
  close(): Promise<void>;
}

/** Embedded mode: one replica, so a deployment's slots are a count in this process. */
export const localDeploymentSlots: DeploymentSlots = {
  poolFor: (_deployment, limit) => new LocalSlots(limit),
  close: async () => undefined,
};

/** After a refused take, a queue asks Redis again 5 ms later, doubling up to 100 ms while the answer is no. */
const RETRY_MS = [5, 100] as const;

export interface RedisDeploymentSlotsOptions {
  readonly redis: RedisClient & ScriptCommands;
  readonly keys: RedisKeys;
  readonly replica: string;
  /** The cluster poll's interval: each replica restates its true counts at this cadence. */
  readonly intervalMs: number;
  /** The live replicas as last polled: while Redis fails, each takes its share of a limit. */
  readonly replicas: () => number;
  /** The replica's view of Redis: a take skips it for a while after it failed, as admissions do, and reports failures. */
  readonly health?: RedisHealth;
}

/**
 * Cluster mode: a deployment's `maxConcurrent` is cluster-wide. A slot is taken by one script call
 * (shareDeploymentSlots.lua: increment only under the limit) and given back by another, off the request's path;
 * nothing is called for deployments without the limit. Counts are kept per replica, so a dead replica's slots free
 * when its heartbeat goes stale, and each replica restates its own every poll interval, which repairs a give that
 * Redis never got. While Redis fails, a replica holds at most its share of the limit (the limit over the replicas).
 */
export class RedisDeploymentSlots implements DeploymentSlots {
  private readonly pools: RedisSlotPool[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: RedisDeploymentSlotsOptions) {
    this.timer = setInterval(() => {
      for (const pool of this.pools) pool.restate();
    }, options.intervalMs);
    this.timer.unref();
  }

  poolFor(deployment: Deployment, limit: number): DeploymentSlotPool {
    const pool = new RedisSlotPool(this.options, this.options.keys.deploymentSlots(deployment.id), limit);
    this.pools.push(pool);
    return pool;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.pools.map((pool) => pool.forget()));
  }
}

type Operation = 'take' | 'give' | 'pass' | 'set';

class RedisSlotPool implements DeploymentSlotPool {
  readonly retryMs = RETRY_MS;
  /**
   * Slots this replica holds, counting takes still on their way: changed when a call is sent, so that a restatement
   * (sent on the same connection, so applied in order) never undercounts; a refused take is undone on its answer.
   */
  private held = 0;
  private waiting = 0;
  private restated = true;

  constructor(
    private readonly options: RedisDeploymentSlotsOptions,
    private readonly key: string,
    private limit: number,
  ) {}

  resize(limit: number): void {
    this.limit = limit;
  }

  get active(): number {
    return this.held;
  }

  take(waiting: number): boolean | Promise<boolean> {
    const { health } = this.options;
    if (health && !health.shouldTry()) return this.takeShare();
    this.held += 1;
    return this.call('take', waiting).then(
      (taken) => {
        if (!taken) this.held -= 1;
        return taken;
      },
      (error: unknown) => {
        health?.markFailure(error);
        this.held -= 1;
        return this.takeShare();
      },
    );
  }

  /** Redis failing: this replica's share of the limit (the limit over the live replicas), counted here. */
  private takeShare(): boolean {
    if (this.held >= Math.max(1, Math.floor(this.limit / Math.max(1, this.options.replicas())))) return false;
    this.held += 1;
    return true;
  }

  give(waiting: number): void {
    this.held = Math.max(0, this.held - 1);
    this.call('give', waiting).catch(() => undefined);
  }

  pass(waiting: number): Promise<boolean> {
    return this.call('pass', waiting).then(
      (taken) => {
        if (!taken) this.held = Math.max(0, this.held - 1);
        return taken;
      },
      // Redis failed: the slot stays here and goes to the waiter (this replica keeps what it held).
      () => true,
    );
  }

  /** Tells Redis this replica's true count, when it holds or awaits slots or just stopped doing so. */
  restate(): void {
    const idle = this.held === 0 && this.waiting === 0;
    if (idle && this.restated) return;
    this.restated = idle;
    this.call('set', this.waiting).catch(() => {
      this.restated = false;
    });
  }

  async forget(): Promise<void> {
    this.held = 0;
    this.waiting = 0;
    await this.call('set', 0).catch(() => undefined);
  }

  private async call(operation: Operation, waiting: number): Promise<boolean> {
    this.waiting = waiting;
    const { redis, keys, replica, intervalMs } = this.options;
    const [taken] = (await redis.dosrouterShareDeploymentSlotsV1(2, this.key, keys.replicas(), replica, this.limit, Date.now(), intervalMs * 3, operation, waiting, this.held)) as [number, number];
    return taken === 1;
  }
}
