/**
 * Test support: a data directory of the test's own and a logger whose lines the test can read. Not exported from the
 * package.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../logger/logger.js';

/** A new empty directory under the system's temporary directory, and what removes it. */
export async function temporaryDirectory(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'dosrouter-data-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A logger (warnings and up) that keeps its lines, parsed, instead of printing them. */
export function recordingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: createLogger({ level: 'warn', service: 'test', destination }), lines };
}
