import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { archiveLog } from '../../../packages/shared/src/test-support/log-archive.js';
import { spawnRegistered } from '../../../scripts/cluster/process-registry.mjs';

const repository = fileURLToPath(new URL('../../../', import.meta.url));
const mainScript = join(repository, 'packages/gateway/dist/main.js');

export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly url: string;
  readonly port: number;
  /** Every JSON line the gateway wrote to stdout. */
  readonly lines: Record<string, unknown>[];
  /** Its access-log lines ("request"). */
  accessLines(): Record<string, unknown>[];
  /** How many file descriptors it holds open now (/proc/<pid>/fd). */
  openFileDescriptors(): number;
  /** Bytes it has read so far through read-like system calls, sockets included (/proc/<pid>/io `rchar`). */
  bytesRead(): number;
  close(): Promise<void>;
}

const running = new Set<ChildProcess>();
// A test run that stops half-way must not leave a gateway behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Runs the built gateway (packages/gateway/dist/main.js, as `pnpm start` does) in its own process with the given
 * config on a free 127.0.0.1 port: a client and the gateway then have separate event loops and kernel socket
 * buffers, as in production, which an in-process gateway does not show.
 */
export async function startGatewayProcess(config: Record<string, unknown>, environment: Record<string, string> = {}): Promise<GatewayProcess> {
  const directory = mkdtempSync(join(tmpdir(), 'dosrouter-security-'));
  const configPath = join(directory, 'config.yaml');
  // JSON is YAML.
  writeFileSync(configPath, JSON.stringify(config));
  const child = spawnRegistered(process.execPath, [mainScript, '--config', configPath], {
    cwd: repository,
    // Embedded mode's journals in the test's own directory: one gateway per data directory, and never ./data.
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', REDIS_URL: '', DOSROUTER_ADMIN_KEY: '', DOSROUTER_DATA_DIR: join(directory, 'data'), ...environment },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  running.add(child);
  const lines: Record<string, unknown>[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      archiveLog('gateway-process', line);
      const entry = JSON.parse(line) as Record<string, unknown>;
      lines.push(entry);
      if (entry.message === 'gateway listening') resolve(entry.url as string);
    });
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
  });
  const pid = child.pid!;
  return {
    child,
    pid,
    url,
    port: Number(new URL(url).port),
    lines,
    accessLines: () => lines.filter((line) => line.message === 'request'),
    openFileDescriptors: () => readdirSync(`/proc/${pid}/fd`).length,
    bytesRead: () => Number(/^rchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1]),
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }
      running.delete(child);
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
