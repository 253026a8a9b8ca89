import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import { createLogger, type Logger } from '@dosrouter/shared';

/** The queue and scheduler the server tests show in bull-board, shaped like the prober's own. */
export const PROBE_QUEUE_NAME = 'probes';
export const PROBE_SCHEDULER_ID = 'probe:sim/fast';
export const PROBE_EVERY_MS = 60_000;

/**
 * The BullMQ prefix the tests use under their own key prefix. It carries a hash tag, as the prober's real prefix
 * `<keyPrefix>:v1:{probes}` does, so that bull-board is tested against the same key shape.
 */
export const bullPrefix = (testPrefix: string): string => `${testPrefix}:v1:{probes}`;

/** A real BullMQ queue with one job scheduler, which keeps one delayed job waiting for its next run. */
export async function scheduledProbeQueue(redisUrl: string, testPrefix: string): Promise<Queue> {
  const queue = new Queue(PROBE_QUEUE_NAME, { connection: { url: redisUrl }, prefix: bullPrefix(testPrefix) });
  await queue.waitUntilReady();
  await queue.upsertJobScheduler(PROBE_SCHEDULER_ID, { every: PROBE_EVERY_MS }, { name: 'probe', data: { deploymentId: 'sim/fast' } });
  return queue;
}

/** Removes everything the queue made (the caller then deletes the prefix, which catches anything left) and closes it. */
export async function removeQueue(queue: Queue): Promise<void> {
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
}

export interface CapturedLogger {
  readonly logger: Logger;
  /** The JSON lines logged so far, parsed. */
  lines(): Record<string, unknown>[];
  /** Everything logged so far, as written. */
  text(): string;
}

/** A real logger whose lines a test can read back, e.g. to check that no secret was logged. */
export function capturingLogger(): CapturedLogger {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const logger = createLogger({ level: 'debug', service: 'health-prober', destination });
  const text = (): string => chunks.join('');
  const lines = (): Record<string, unknown>[] =>
    text()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, text };
}
