import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/cluster/processes.mjs';
import type { ClusterDescription } from '../../scripts/cluster/topology.mjs';
import { isAlive } from './support/processes.js';
import { eventually, REPOSITORY } from './support/test-cluster.js';

interface RunningScript {
  child: ChildProcess;
  description: ClusterDescription;
  stderr: () => string;
  pids: number[];
}

const started: RunningScript[] = [];

/** Runs `node scripts/cluster.mjs --json` (what `pnpm cluster` runs after building) and reads what it printed. */
async function startScript(extraArguments: string[]): Promise<RunningScript> {
  const directory = mkdtempSync(join(tmpdir(), 'dosrouter-cluster-script-'));
  const port = await freePort();
  const environment = { ...process.env };
  delete environment.REDIS_URL;
  const child = spawn(process.execPath, ['scripts/cluster.mjs', '--json', '--replicas', '2', '--port', String(port), '--dir', directory, ...extraArguments], {
    cwd: REPOSITORY,
    env: environment,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  child.once('exit', () => rmSync(directory, { recursive: true, force: true }));
  const description = await new Promise<ClusterDescription>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no description within 20 s; stderr: ${stderr}`)), 20_000);
    child.stdout.on('data', () => {
      try {
        resolve(JSON.parse(stdout) as ClusterDescription);
        clearTimeout(timer);
      } catch {
        // Not complete yet.
      }
    });
    child.once('exit', (code) => reject(new Error(`scripts/cluster.mjs exited with ${code}: ${stderr}`)));
  });
  const pids = [description.nginx.pid, description.redis?.pid, ...description.replicas.map((replica) => replica.pid)].filter(
    (pid): pid is number => pid !== undefined,
  );
  const running = { child, description, stderr: () => stderr, pids };
  started.push(running);
  return running;
}

describe('scripts/cluster.mjs (pnpm cluster)', () => {
  afterEach(async () => {
    for (const { child, pids } of started.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
      for (const pid of pids.filter(isAlive)) process.kill(pid, 'SIGKILL');
    }
  });

  it('starts redis-server, the replicas and nginx, and stops them all on SIGTERM with exit code 0', async () => {
    const script = await startScript([]);
    expect(script.description.replicas).toHaveLength(2);
    expect(script.description.redis).toMatchObject({ startedHere: true });
    const models = await fetch(`${script.description.url}/v1/models`);
    expect(models.status).toBe(200);

    script.child.kill('SIGTERM');
    const [code] = (await once(script.child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(script.pids.filter(isAlive)).toEqual([]);
  });

  it('says so loudly and stops everything when a replica dies', async () => {
    const script = await startScript([]);
    const victim = script.description.replicas[0]!;
    process.kill(victim.pid!, 'SIGKILL');
    const [code] = (await once(script.child, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(script.stderr()).toContain(`!!! gateway-1 (pid ${victim.pid}) was killed by SIGKILL, unexpectedly`);
    expect(script.pids.filter(isAlive)).toEqual([]);
  });

  it('keeps the rest running with --keep-going', async () => {
    const script = await startScript(['--keep-going']);
    process.kill(script.description.replicas[0]!.pid!, 'SIGKILL');
    await eventually(() => script.stderr().includes('the rest keeps running'));
    for (let request = 0; request < 4; request += 1) {
      expect((await fetch(`${script.description.url}/v1/models`)).status).toBe(200);
    }
    script.child.kill('SIGTERM');
    const [code] = (await once(script.child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});
