import type { Writable } from 'node:stream';
import winston from 'winston';
import { FdDestination } from './fd-destination.js';

export type Logger = winston.Logger;
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface LoggerOptions {
  level: LogLevel;
  /** Process component, e.g. "gateway", "health-prober". */
  service: string;
  /**
   * Where JSON lines go. Defaults to an FdDestination on fd 1: its writes run on libuv's thread pool, so a
   * request never waits on them (unlike process.stdout, which writes synchronously to files and pipes on Linux),
   * and a full or failing stdout (EAGAIN on a slowly drained pipe) never raises an error (see fd-destination.ts).
   */
  destination?: Writable;
}

/** Each logger's destination, so that flushLogger can wait until the last line has really been written. */
const destinations = new WeakMap<Logger, Writable>();

/** Structured JSON lines: timestamp, level, service, message and fields. No colours, no secrets. */
export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? new FdDestination({ service: options.service });
  const logger = winston.createLogger({
    level: options.level,
    defaultMeta: { service: options.service },
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: false }), winston.format.json()),
    transports: [new winston.transports.Stream({ stream: destination })],
  });
  destinations.set(logger, destination);
  return logger;
}

/** The stream a logger writes to, so that other writers of JSON lines (the access log) can share it in order. */
export function loggerDestination(logger: Logger): Writable | undefined {
  return destinations.get(logger);
}

/**
 * Waits until every line logged so far has been written by the destination (before a process exits: an exit
 * would drop writes still queued on the thread pool). Gives up after `timeoutMs` so that exit is never blocked.
 */
export async function flushLogger(logger: Logger, timeoutMs = 2_000): Promise<void> {
  const destination = destinations.get(logger);
  const flushed = (async () => {
    await new Promise<void>((resolve) => {
      logger.once('finish', () => resolve());
      logger.end();
    });
    if (destination && !destination.writableFinished) {
      await new Promise<void>((resolve) => {
        destination.once('finish', () => resolve());
        destination.once('error', () => resolve());
        destination.end();
      });
    }
  })();
  await Promise.race([flushed, new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref())]);
}
