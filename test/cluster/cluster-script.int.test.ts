import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REGISTRY_VARIABLE, spawnRegistered } from '../../scripts/cluster/process-registry.mjs';
import { freePort } from '../../scripts/cluster/processes.mjs';
import type { ClusterDescription } from '../../scripts/cluster/topology.mjs';
import { isAlive, redisCli } from './support/processes.js';
import { eventually, REPOSITORY } from './support/test-cluster.js';

interface RunningScript {
  child: ChildProcess;
  description: ClusterDescription;
  stderr: () => string;
  pids: number[];
}

/** Every script started, with its run directory: removed once the script and all it started are dead. */
const started: { child: ChildProcess; directory: string; pids: number[] }[] = [];

/** Runs `node scripts/cluster.mjs --json` (what `pnpm cluster` runs after building) and reads what it printed. */
async function startScript(extraArguments: string[], extraEnvironment: Record<string, string> = {}): Promise<RunningScript> {
  const directory = mkdtempSync(join(tmpdir(), 'dosrouter-cluster-script-'));
  const port = await freePort();
  const environment = { ...process.env, ...extraEnvironment };
  delete environment.REDIS_URL;
  // Registered with the test run: killed with this worker. Its own children are registered by it in turn.
  const child = spawnRegistered(process.execPath, ['scripts/cluster.mjs', '--json', '--replicas', '2', '--port', String(port), '--dir', directory, ...extraArguments], {
    cwd: REPOSITORY,
    env: environment,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const entry = { child, directory, pids: [] as number[] };
  started.push(entry);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const description = await new Promise<ClusterDescription>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no description within 20 s; stderr: ${stderr}`)), 20_000);
    child.stdout!.on('data', () => {
      try {
        resolve(JSON.parse(stdout) as ClusterDescription);
        clearTimeout(timer);
      } catch {
        // Not complete yet.
      }
    });
    child.once('exit', (code) => reject(new Error(`scripts/cluster.mjs exited with ${code}: ${stderr}`)));
  });
  const pids = [
    description.nginx.pid,
    description.redis?.pid,
    description.simulator?.pid,
    ...description.replicas.map((replica) => replica.pid),
    ...description.probers.map((prober) => prober.pid),
  ].filter((pid): pid is number => pid !== undefined);
  entry.pids.push(...pids);
  return { child, description, stderr: () => stderr, pids };
}

describe('scripts/cluster.mjs (pnpm cluster)', () => {
  afterEach(async () => {
    for (const { child, directory, pids } of started.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
      for (const pid of pids.filter(isAlive)) process.kill(pid, 'SIGKILL');
      // The run directory is redis-server's working directory: removed only once nothing runs in it.
      await eventually(() => pids.every((pid) => !isAlive(pid)), 15_000, 'every process of the script is gone');
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('starts redis-server, the simulator, a prober, the replicas and nginx, and stops them all on SIGTERM with exit code 0', async () => {
    const script = await startScript([]);
    expect(script.description.replicas).toHaveLength(2);
    expect(script.description.redis).toMatchObject({ startedHere: true });
    expect(script.description.config).toBe(join(REPOSITORY, 'config', 'cluster.yaml'));
    expect(script.description.simulator).toMatchObject({ running: true, url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/v1$/) });
    expect(script.description.probers).toMatchObject([{ name: 'prober-1', id: 'prober-1', running: true }]);
    expect(script.pids).toHaveLength(6); // nginx, redis-server, simulator, two replicas, one prober
    const models = await fetch(`${script.description.url}/v1/models`);
    expect(models.status).toBe(200);
    // The replicas route to the simulator process (config/cluster.yaml's backends), sim-a and sim-b both serving fast.
    const answer = await fetch(`${script.description.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fast', messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-dosrouter-deployment')).toMatch(/^sim-[ab]\/fast$/);

    script.child.kill('SIGTERM');
    const [code] = (await once(script.child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(script.pids.filter(isAlive)).toEqual([]);
  });

  it('runs a prober that probes the deployments, schedules the probes in Redis under the prefix and publishes weights', async () => {
    const prefix = `test-script-${randomBytes(4).toString('hex')}`;
    // The first probe of each deployment runs at once, the next one an interval later.
    const script = await startScript(['--prefix', prefix], { CLUSTER_PROBE_INTERVAL_MS: '1500' });
    const prober = script.description.probers[0]!;
    expect((await fetch(`${prober.url}/readyz`)).status).toBe(200);
    const probesOf = async (deployment: string): Promise<number> => {
      const metrics = await (await fetch(`${prober.url}/metrics`)).text();
      const line = metrics.split('\n').find((text) => text.startsWith(`dosrouter_probes_total{deployment="${deployment}",kind="models",outcome="ok"}`));
      return line === undefined ? 0 : Number(line.split(' ').at(-1));
    };
    await eventually(async () => (await probesOf('sim-a/fast')) >= 2 && (await probesOf('sim-b/fast')) >= 2, 15_000, 'two probes of each fast deployment');

    const redisPort = Number(new URL(script.description.redis!.url).port);
    const queueKeys = await redisCli(redisPort, '--scan', '--pattern', `${prefix}:v1:{queues}:probes:*`);
    expect(queueKeys).toEqual(
      expect.arrayContaining([
        `${prefix}:v1:{queues}:probes:repeat:probe:sim-a/fast`,
        `${prefix}:v1:{queues}:probes:repeat:probe:sim-b/fast`,
        `${prefix}:v1:{queues}:probes:repeat:weights:recompute`,
      ]),
    );
    const schedulers = await redisCli(redisPort, 'ZRANGE', `${prefix}:v1:{queues}:probes:repeat`, '0', '-1');
    expect(schedulers.sort()).toEqual(
      ['probe:sim-a/fast', 'probe:sim-b/fast', 'probe:sim-capable/capable', 'probe:sim-vision/embed', 'probe:sim-vision/vision', 'weights:recompute'].sort(),
    );
    expect(await redisCli(redisPort, 'EXISTS', `${prefix}:v1:{weights}:document`)).toEqual(['1']);

    script.child.kill('SIGTERM');
    const [code] = (await once(script.child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(script.pids.filter(isAlive)).toEqual([]);
  });

  it('starts no prober in embedded mode (the replicas probe in-process) and none with --probers 0', async () => {
    const embedded = await startScript(['--embedded']);
    expect(embedded.description).toMatchObject({ mode: 'embedded', probers: [], simulator: { running: true } });
    expect(embedded.description.redis).toBeUndefined();
    const noProber = await startScript(['--probers', '0']);
    expect(noProber.description).toMatchObject({ mode: 'cluster', probers: [], simulator: { running: true } });
    for (const script of [embedded, noProber]) {
      script.child.kill('SIGTERM');
      const [code] = (await once(script.child, 'exit')) as [number | null];
      expect(code).toBe(0);
      expect(script.pids.filter(isAlive)).toEqual([]);
    }
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

  it('leaves nothing running when the script itself is SIGKILLed, as a dying test worker leaves it (the run’s watchdog)', async () => {
    expect(process.env[REGISTRY_VARIABLE]).toBeTruthy();
    const script = await startScript([]);
    expect(script.pids.filter(isAlive)).toHaveLength(6);
    script.child.kill('SIGKILL');
    await eventually(() => script.pids.every((pid) => !isAlive(pid)), 15_000, 'nginx, redis-server, the simulator, the prober and the replicas are gone');
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
