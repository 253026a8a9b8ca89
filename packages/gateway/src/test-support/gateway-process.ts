import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { logLines } from '../../../shared/src/test-support/held-startup.js';
import { spawnRegistered } from '../../../../scripts/cluster/process-registry.mjs';

export const repository = fileURLToPath(new URL('../../../../', import.meta.url));
export const mainScript = join(repository, 'packages/gateway/dist/main.js');

export interface GatewayProcess {
  readonly child: ChildProcess;
  /** Every JSON line it wrote to stdout so far. */
  readonly lines: Record<string, unknown>[];
  readonly url: string;
}

/**
 * Runs the built gateway as `pnpm start` does, embedded, on a free loopback port, and waits for its "listening" line.
 * Registered with the test run, so that it dies with this test's worker (scripts/cluster/process-registry.mjs).
 */
export async function startGatewayProcess(args: string[], environment: Record<string, string> = {}): Promise<GatewayProcess> {
  const { listening, ...spawned } = spawnGatewayProcess(args, environment);
  return { ...spawned, url: await listening };
}

/** `startGatewayProcess` without the wait: `listening` resolves to its URL once it logs that it listens. */
export function spawnGatewayProcess(args: string[], environment: Record<string, string> = {}): Omit<GatewayProcess, 'url'> & { readonly listening: Promise<string> } {
  const child = spawnRegistered(process.execPath, [mainScript, ...args], {
    cwd: repository,
    // Embedded mode's journals in a directory of the test's own, not ./data in the repository.
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', REDIS_URL: '', DOSROUTER_DATA_DIR: mkdtempSync(join(tmpdir(), 'dosrouter-data-')), ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { lines, listening } = logLines(child, 'gateway listening');
  return { child, lines, listening };
}
