import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { spawnRegistered } from '../../../scripts/cluster/process-registry.mjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../shared/src/test-support/eventually.js';
import { archiveLog, recordTestSecret } from '../../shared/src/test-support/log-archive.js';

const repository = fileURLToPath(new URL('../../../', import.meta.url));
const mainScript = join(repository, 'packages/gateway/dist/main.js');
const cli = join(repository, 'scripts/dosrouter.mjs');
const ADMIN_KEY = `admin-${randomBytes(12).toString('hex')}`;
recordTestSecret(ADMIN_KEY);
const messages = [{ role: 'user' as const, content: 'Hello!' }];

interface Gateway {
  readonly child: ChildProcess;
  readonly url: string;
}

interface CreatedKey {
  readonly id: string;
  readonly secret: string;
}

/** Embedded (no REDIS_URL), the demo config, the test's admin key and data directory. */
function gatewayEnvironment(dataDir: string): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = { ...process.env, PORT: '0', HOST: '127.0.0.1', REDIS_URL: '', DOSROUTER_ADMIN_KEY: ADMIN_KEY, DOSROUTER_DATA_DIR: dataDir };
  delete environment.DOSROUTER_CONFIG;
  return environment;
}

/** The built gateway as `pnpm start` runs it (demo config: simulated models), embedded, on `dataDir`. */
async function startGateway(dataDir: string): Promise<Gateway> {
  const child = spawnRegistered(process.execPath, [mainScript], {
    cwd: repository,
    env: gatewayEnvironment(dataDir),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      archiveLog('embedded-persistence', line);
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.message === 'gateway listening') resolve(entry.url as string);
    });
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}: ${stderr}`)));
  });
  return { child, url };
}

/** SIGTERM, as a service manager stops it; resolves with the exit code. */
async function stopGateway(gateway: Gateway): Promise<number | null> {
  const exited = once(gateway.child, 'exit');
  gateway.child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  return code;
}

/** `pnpm dosrouter …` against a gateway, answering its JSON. */
async function dosrouter(gateway: Gateway, ...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(process.execPath, [cli, ...args], { env: { ...process.env, DOSROUTER_URL: gateway.url, DOSROUTER_ADMIN_KEY: ADMIN_KEY } });
  const answer = JSON.parse(stdout) as Record<string, unknown>;
  if (typeof answer.secret === 'string') recordTestSecret(answer.secret);
  return answer;
}

const clientOf = (gateway: Gateway, secret: string) => new OpenAI({ apiKey: secret, baseURL: `${gateway.url}/v1`, maxRetries: 0 });
const statusOf = (promise: Promise<unknown>): Promise<number> => promise.then(() => 200, (error: { status?: number }) => error.status ?? 0);

/** What /admin/usage (by key and model) and a key's /v1/usage answer. */
async function usageOf(gateway: Gateway, key: CreatedKey): Promise<{ admin: unknown; own: unknown }> {
  const admin = await dosrouter(gateway, 'usage', '--group-by', 'key,model');
  const own = await (await fetch(`${gateway.url}/v1/usage?group_by=model`, { headers: { authorization: `Bearer ${key.secret}` } })).json();
  return { admin, own };
}

describe('embedded mode across a restart (keys and usage in the data directory)', () => {
  let dataDir: string;
  let gateway: Gateway;
  const started: Gateway[] = [];
  const start = async (): Promise<Gateway> => {
    const next = await startGateway(dataDir);
    started.push(next);
    return next;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'dosrouter-embedded-'));
    gateway = await start();
  });
  afterAll(async () => {
    for (const { child } of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps keys, revocations, spent budgets and usage totals', async () => {
    const kept = (await dosrouter(gateway, 'keys', 'create', '--name', 'kept', '--model', 'fast')) as unknown as CreatedKey;
    const revoked = (await dosrouter(gateway, 'keys', 'create', '--name', 'revoked')) as unknown as CreatedKey;
    // Less than one request costs: the first is admitted (nothing spent yet), every later one refused.
    const budgeted = (await dosrouter(gateway, 'keys', 'create', '--name', 'budgeted', '--daily-usd', '0.000001')) as unknown as CreatedKey;

    const completion = await clientOf(gateway, kept.secret).chat.completions.create({ model: 'fast', messages });
    expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
    const stream = await clientOf(gateway, kept.secret).chat.completions.create({ model: 'fast', messages, stream: true });
    for await (const _chunk of stream);
    await clientOf(gateway, revoked.secret).chat.completions.create({ model: 'fast', messages });
    await dosrouter(gateway, 'keys', 'revoke', revoked.id);
    expect(await statusOf(clientOf(gateway, revoked.secret).chat.completions.create({ model: 'fast', messages }))).toBe(401);
    await clientOf(gateway, budgeted.secret).chat.completions.create({ model: 'fast', messages });
    expect(await statusOf(clientOf(gateway, budgeted.secret).chat.completions.create({ model: 'fast', messages }))).toBe(429);
    const usageBefore = await usageOf(gateway, kept);
    // After the usage query, which used the kept key: its last use is part of what must survive.
    const keysBefore = await dosrouter(gateway, 'keys', 'list');
    expect(usageBefore.own).toMatchObject({ totals: { requests: 2 } });
    expect(usageBefore.admin).toMatchObject({ totals: { requests: 5, failed_requests: 1 } });

    expect(await stopGateway(gateway)).toBe(0);
    // The lock is given back at a clean stop; the journals stay.
    expect((await readdir(dataDir)).sort()).toEqual(['keys.jsonl', 'usage.jsonl']);
    gateway = await start();

    expect(await dosrouter(gateway, 'keys', 'list')).toEqual(keysBefore);
    expect(await usageOf(gateway, kept)).toEqual(usageBefore);
    expect(await statusOf(clientOf(gateway, kept.secret).chat.completions.create({ model: 'fast', messages }))).toBe(200);
    expect(await statusOf(clientOf(gateway, revoked.secret).chat.completions.create({ model: 'fast', messages }))).toBe(401);
    const refused = await clientOf(gateway, budgeted.secret)
      .chat.completions.create({ model: 'fast', messages })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    expect((refused as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('insufficient_quota');
  });

  it('refuses to start a second gateway on the same data directory, naming the first', async () => {
    const child = spawnRegistered(process.execPath, [mainScript], {
      cwd: repository,
      env: gatewayEnvironment(dataDir),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    started.push({ child, url: '' });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(stderr).toContain(`is in use by process ${gateway.child.pid}`);
  });

  it('keeps a revocation killed right after its answer, and the records of answers stopped right after theirs', async () => {
    // The key store waits for its line's fsync before answering, not for the journal's 5 ms batch: a SIGKILL sent as
    // soon as the revocation answered cannot bring the key back.
    const revoked = (await dosrouter(gateway, 'keys', 'create', '--name', 'revoked then killed')) as unknown as CreatedKey;
    await dosrouter(gateway, 'keys', 'revoke', revoked.id);
    let exited = once(gateway.child, 'exit');
    gateway.child.kill('SIGKILL');
    await exited;
    gateway = await start();
    expect(await statusOf(clientOf(gateway, revoked.secret).chat.completions.create({ model: 'fast', messages }))).toBe(401);

    // A clean stop writes the usage lines still waiting for their batch: SIGTERM as soon as the last answer arrived.
    const key = (await dosrouter(gateway, 'keys', 'create', '--name', 'stopped at once')) as unknown as CreatedKey;
    await Promise.all([0, 1, 2, 3].map(() => clientOf(gateway, key.secret).chat.completions.create({ model: 'fast', messages })));
    exited = once(gateway.child, 'exit');
    gateway.child.kill('SIGTERM');
    expect((await exited)[0]).toBe(0);
    expect((await readFile(join(dataDir, 'usage.jsonl'), 'utf8')).split(key.id).length - 1).toBe(4);
    gateway = await start();
    expect((await usageOf(gateway, key)).own).toMatchObject({ totals: { requests: 4 } });
  });

  it('keeps what reached the journals when the process is killed, and takes over its lock', async () => {
    const key = (await dosrouter(gateway, 'keys', 'create', '--name', 'survives a kill')) as unknown as CreatedKey;
    for (let index = 0; index < 3; index += 1) await clientOf(gateway, key.secret).chat.completions.create({ model: 'fast', messages });
    const usageBefore = await usageOf(gateway, key);
    expect(usageBefore.own).toMatchObject({ totals: { requests: 3 } });
    // The key was fsynced before the CLI got its answer; usage lines reach the file (the kernel) within moments.
    await eventually(async () => (await readFile(join(dataDir, 'usage.jsonl'), 'utf8')).split(key.id).length - 1 >= 3);
    const exited = once(gateway.child, 'exit');
    gateway.child.kill('SIGKILL');
    await exited;
    expect(await readdir(dataDir)).toContain('dosrouter.lock');

    gateway = await start();
    expect(await usageOf(gateway, key)).toEqual(usageBefore);
    expect(await statusOf(clientOf(gateway, key.secret).chat.completions.create({ model: 'fast', messages }))).toBe(200);
  });
});
