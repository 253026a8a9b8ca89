import type { RedisClient } from './connection.js';
import type { BreakerEvent, BreakerStore } from '../breakers.js';
import type { RedisKeys } from '../keys.js';

/**
 * Breaker state shared through Redis: an open circuit is a key with the cooldown as its TTL (so a replica that
 * missed the message still sees it on its next poll) plus a message on the breakers channel (so the others see
 * it at once). Closing deletes the key and announces it.
 */
export class RedisBreakerStore implements BreakerStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly subscriber: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  async publish(event: BreakerEvent): Promise<void> {
    const pipeline = this.redis.pipeline();
    if (event.state === 'open') {
      const opened = { ...event, openedAt: event.openedAt ?? Date.now() };
      pipeline.set(this.keys.breaker(event.deploymentId), JSON.stringify(opened), 'PX', Math.max(1, Math.round(event.durationMs ?? 1)));
    } else {
      pipeline.del(this.keys.breaker(event.deploymentId));
    }
    // Opening again (a failed trial) or closing both end the half-open trial: the next cooldown gets a new one.
    pipeline.del(this.keys.breakerTrial(event.deploymentId));
    pipeline.publish(this.keys.breakerChannel(), JSON.stringify(event));
    await pipeline.exec();
  }

  async readOpen(deploymentIds: readonly string[]): Promise<Map<string, number>> {
    const pipeline = this.redis.pipeline();
    for (const deploymentId of deploymentIds) pipeline.pttl(this.keys.breaker(deploymentId));
    const results = (await pipeline.exec()) ?? [];
    const open = new Map<string, number>();
    deploymentIds.forEach((deploymentId, index) => {
      const [error, remaining] = results[index] ?? [];
      if (error) throw error;
      if (typeof remaining === 'number' && remaining > 0) open.set(deploymentId, remaining);
    });
    return open;
  }

  async tryTrial(deploymentId: string, replica: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.keys.breakerTrial(deploymentId), replica, 'PX', ttlMs, 'NX')) === 'OK';
  }

  private listening = false;

  async subscribe(onEvent: (event: BreakerEvent) => void): Promise<void> {
    const channel = this.keys.breakerChannel();
    if (!this.listening) this.listenTo(channel, onEvent);
    if (this.subscriber.status === 'wait' || this.subscriber.status === 'end') await this.subscriber.connect();
    await this.subscriber.subscribe(channel);
  }

  private listenTo(channel: string, onEvent: (event: BreakerEvent) => void): void {
    this.listening = true;
    this.subscriber.on('message', (from: string, message: string) => {
      if (from !== channel) return;
      try {
        onEvent(JSON.parse(message) as BreakerEvent);
      } catch {
        // A malformed message from another release is ignored; the poll still carries the state.
      }
    });
  }

  async close(): Promise<void> {
    this.subscriber.disconnect();
  }
}
