import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REGISTRY_VARIABLE, spawnRegistered, startTimeOf, sweepRegistry } from '../../scripts/cluster/process-registry.mjs';
import { isAlive } from '../cluster/support/processes.js';
import { eventually } from '../cluster/support/test-cluster.js';

const WORKER = fileURLToPath(new URL('./fixtures/spawning-worker.mjs', import.meta.url));

/** A stand-in test worker with a registry of this test's own; what it started, as its output says. */
interface Worker {
  readonly process: ChildProcess;
  /** Its registered child. */
  readonly child: number;
  /** Lines the child printed. */
  readonly lines: string[];
}

describe('processes the tests start (scripts/cluster/process-registry.mjs)', () => {
  let registry: string;
  let directory: string;
  const workers: Worker[] = [];

  beforeEach(() => {
    registry = mkdtempSync(join(tmpdir(), 'dosrouter-registry-test-'));
    directory = mkdtempSync(join(tmpdir(), 'dosrouter-registry-work-'));
  });
  afterEach(async () => {
    for (const worker of workers.splice(0)) if (worker.process.exitCode === null && worker.process.signalCode === null) worker.process.kill('SIGKILL');
    sweepRegistry(registry);
    rmSync(registry, { recursive: true, force: true });
    rmSync(directory, { recursive: true, force: true });
  });

  /** Starts the stand-in worker (itself registered with the run), which starts `command`. */
  async function startWorker(command: string, args: string[]): Promise<Worker> {
    const worker = spawnRegistered(process.execPath, [WORKER, command, ...args], {
      cwd: directory,
      env: { ...process.env, [REGISTRY_VARIABLE]: registry },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines: string[] = [];
    const child = await new Promise<number>((resolve, reject) => {
      createInterface({ input: worker.stdout! }).on('line', (line) => {
        if (line.startsWith('{"child"')) resolve((JSON.parse(line) as { child: number }).child);
        else lines.push(line);
      });
      worker.once('exit', (code, signal) => reject(new Error(`the worker exited (${code ?? signal}) before it started its child`)));
    });
    const started = { process: worker, child, lines };
    workers.push(started);
    return started;
  }

  /** On a unix socket only (no port to find): redis-server exits when it has nowhere to listen. */
  const redisServer = (): [string, string[]] => ['redis-server', ['--port', '0', '--unixsocket', join(directory, 'redis.sock'), '--save', '', '--appendonly', 'no', '--dir', directory]];

  it('runs inside a test run that has a registry (set by test/support/child-processes.global.ts)', () => {
    expect(process.env[REGISTRY_VARIABLE]).toBeTruthy();
  });

  it('kills a redis-server when its worker is SIGKILLed, which runs no hook: the watchdog does', async () => {
    const worker = await startWorker(...redisServer());
    await eventually(() => worker.lines.some((line) => line.includes('ready to accept connections')), 10_000, 'redis-server is ready');
    worker.process.kill('SIGKILL');
    await eventually(() => !isAlive(worker.child), 10_000, 'the redis-server of a SIGKILLed worker is gone');
  });

  it('kills a redis-server when its worker gets the SIGTERM vitest stops workers with, and the worker still ends by that signal', async () => {
    const worker = await startWorker(...redisServer());
    await eventually(() => worker.lines.some((line) => line.includes('ready to accept connections')), 10_000, 'redis-server is ready');
    worker.process.kill('SIGTERM');
    const [code, signal] = (await once(worker.process, 'exit')) as [number | null, NodeJS.Signals | null];
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGTERM' });
    // The hook signalled it before the worker ended; the kernel may take a moment to reap it.
    await eventually(() => !isAlive(worker.child), 10_000, 'the redis-server of a SIGTERMed worker is gone');
  });

  it('kills the children of a child as well (its process group), as nginx’s workers', async () => {
    const worker = await startWorker('sh', ['-c', 'sleep 600 & echo $!; wait']);
    await eventually(() => worker.lines.length > 0, 10_000, 'the shell printed its child’s pid');
    const grandchild = Number(worker.lines[0]);
    expect(isAlive(grandchild)).toBe(true);
    worker.process.kill('SIGKILL');
    await eventually(() => !isAlive(worker.child) && !isAlive(grandchild), 10_000, 'the shell and its sleep are gone');
  });

  it('kills at the end of the run whatever is still alive, and names it', async () => {
    const worker = await startWorker(...redisServer());
    await eventually(() => worker.lines.some((line) => line.includes('ready to accept connections')), 10_000, 'redis-server is ready');
    expect(sweepRegistry(registry)).toEqual([{ pid: worker.child, name: 'redis-server' }]);
    await eventually(() => !isAlive(worker.child), 10_000, 'the swept redis-server is gone');
    expect(isAlive(worker.process.pid!)).toBe(true);
  });

  it('leaves alone a process that was given a registered pid later (another start time)', async () => {
    const bystander = spawn('sleep', ['600'], { stdio: 'ignore' });
    try {
      expect(startTimeOf(bystander.pid!)).toBeDefined();
      writeFileSync(join(registry, '1.pids'), `${bystander.pid} 1\n`);
      expect(sweepRegistry(registry)).toEqual([]);
      expect(isAlive(bystander.pid!)).toBe(true);
    } finally {
      bystander.kill('SIGKILL');
    }
  });
});
