import { once } from 'node:events';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@dosrouter/provider-sim';
import { eventually } from '../test-support/harness.js';
import { startGatewayProcess as startProcess, type GatewayProcess as Gateway } from '../test-support/gateway-process.js';

const ADMIN_KEY = 'admin-key-for-the-reload-test';
const messages = [{ role: 'user' as const, content: 'Hello' }];

/** The gateway with its config in `path`, the admin key set (it guards /metrics and /readyz/detail). */
const startGatewayProcess = (path: string): Promise<Gateway> => startProcess(['--config', path], { DOSROUTER_ADMIN_KEY: ADMIN_KEY });

async function stopGatewayProcess(gateway: Gateway | undefined): Promise<void> {
  if (!gateway || gateway.child.exitCode !== null) return;
  gateway.child.kill('SIGTERM');
  await once(gateway.child, 'exit');
}

/** Writes the config (JSON is YAML too) as an editor does: a new file renamed over the old one. */
function writeConfig(path: string, document: Record<string, unknown>): void {
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, JSON.stringify(document, null, 2));
  renameSync(temporary, path);
}

const linesAbout = (gateway: Gateway, message: string): Record<string, unknown>[] => gateway.lines.filter((line) => line.message === message);

async function detailOf(gateway: Gateway): Promise<{ configRevision: string; configReload?: { result: string; error?: string } }> {
  const response = await fetch(`${gateway.url}/readyz/detail`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  return (await response.json()) as { configRevision: string; configReload?: { result: string; error?: string } };
}

async function reloadsCounted(gateway: Gateway, result: string): Promise<number> {
  const text = await (await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`dosrouter_config_reloads_total{result="${result}"}`));
  return Number(line?.split(' ').at(-1));
}

describe('config reload of a running gateway process', () => {
  let simulator: Simulator;
  let directory: string;
  let path: string;
  let gateway: Gateway | undefined;
  const document = (models: string[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    logging: { level: 'info' },
    // Open to clients (the admin key only guards /metrics and /readyz/detail here).
    auth: { mode: 'open' },
    prober: { embedded: false },
    backends: [{ name: 'sim', baseUrl: simulator.baseUrl, models: models.map((name) => ({ name })) }],
    ...extra,
  });

  beforeAll(async () => {
    // Streams of 40 tokens 5 ms apart: each spans a good part of a reload.
    simulator = await startSimulator({ models: [{ id: 'first', interTokenDelayMs: 5, outputTokens: 40 }, { id: 'second' }] });
    directory = mkdtempSync(join(tmpdir(), 'dosrouter-reload-'));
    path = join(directory, 'gateway.yaml');
  });
  afterEach(async () => {
    await stopGatewayProcess(gateway);
    gateway = undefined;
  });
  afterAll(async () => {
    await simulator?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('answers a model added to the file after SIGHUP, and fails no request during the reload under load, streams included', async () => {
    writeConfig(path, document(['first']));
    gateway = await startGatewayProcess(path);
    const client = new OpenAI({ apiKey: 'unused', baseURL: `${gateway.url}/v1`, maxRetries: 0, timeout: 30_000 });
    const before = await detailOf(gateway);

    const failures: string[] = [];
    let completed = 0;
    let completedAfterReload = 0;
    let reloaded = false;
    let stop = false;
    // A bounded load: 6 clients, each at most 150 requests, every other one a stream, until told to stop.
    const clients = Array.from({ length: 6 }, async (_, index) => {
      for (let round = 0; round < 150 && !stop; round += 1) {
        try {
          if ((index + round) % 2 === 0) {
            const stream = await client.chat.completions.create({ model: 'first', messages, stream: true });
            let finish: string | null | undefined;
            for await (const chunk of stream) finish = chunk.choices[0]?.finish_reason ?? finish;
            if (finish !== 'stop') throw new Error(`stream ended without a finish reason (${String(finish)})`);
          } else {
            const completion = await client.chat.completions.create({ model: 'first', messages });
            if (!completion.choices[0]?.message.content) throw new Error('empty answer');
          }
          completed += 1;
          if (reloaded) completedAfterReload += 1;
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    });
    await eventually(() => completed >= 20, 30_000, 'requests under way before the reload');

    // The backend gains a model: its pool is replaced, and the old one closes once its requests are over.
    writeConfig(path, document(['first', 'second']));
    gateway.child.kill('SIGHUP');
    await eventually(() => linesAbout(gateway!, 'config reloaded').length === 1, 20_000, 'the reload');
    reloaded = true;
    const added = await client.chat.completions.create({ model: 'second', messages });
    expect(added.choices[0]?.message.content?.length).toBeGreaterThan(0);
    await eventually(() => completedAfterReload >= 20, 30_000, 'requests after the reload');
    stop = true;
    await Promise.all(clients);

    expect(failures).toEqual([]);
    const after = await detailOf(gateway);
    expect(after.configRevision).not.toBe(before.configRevision);
    expect(after.configReload?.result).toBe('applied');
    expect(linesAbout(gateway, 'config in service')[0]).toMatchObject({ backends: { added: [], replaced: ['sim'], removed: [] } });
    expect(await reloadsCounted(gateway, 'applied')).toBe(1);
   }, 120_000);

  it('keeps serving the old config when the new file is invalid, and logs, counts and shows the error', async () => {
    writeConfig(path, document(['first']));
    gateway = await startGatewayProcess(path);
    const client = new OpenAI({ apiKey: 'unused', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
    const before = await detailOf(gateway);

    writeConfig(path, { ...document(['first', 'second']), backends: [{ name: 'sim', baseUrl: 'ftp://nowhere', models: [{ name: 'second' }] }] });
    gateway.child.kill('SIGHUP');
    await eventually(() => linesAbout(gateway!, 'config reload refused: the running config stays').length === 1, 20_000, 'the refusal');
    expect(String(linesAbout(gateway, 'config reload refused: the running config stays')[0]!.error)).toContain('backends[0].baseUrl');

    const completion = await client.chat.completions.create({ model: 'first', messages });
    expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
    await expect(client.chat.completions.create({ model: 'second', messages })).rejects.toMatchObject({ status: 404 });
    const after = await detailOf(gateway);
    expect(after.configRevision).toBe(before.configRevision);
    expect(after.configReload?.result).toBe('invalid');
    expect(after.configReload?.error).toContain('backends[0].baseUrl');
    expect(await reloadsCounted(gateway, 'invalid')).toBe(1);
    expect(await reloadsCounted(gateway, 'applied')).toBe(0);
  });

  it('names the settings that need a restart, keeps them, and applies the rest', async () => {
    writeConfig(path, document(['first']));
    gateway = await startGatewayProcess(path);
    writeConfig(path, document(['first', 'second'], { server: { port: 1 }, logging: { level: 'debug' } }));
    gateway.child.kill('SIGHUP');
    await eventually(() => linesAbout(gateway!, 'config reloaded').length === 1, 20_000, 'the reload');
    expect(linesAbout(gateway, 'config reload: these settings change only at a restart; kept as they run')[0]).toMatchObject({ settings: ['server'] });
    const client = new OpenAI({ apiKey: 'unused', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
    expect((await client.chat.completions.create({ model: 'second', messages })).choices[0]?.message.content?.length).toBeGreaterThan(0);
  });

  it('reloads on a change of the file with config.watch', async () => {
    writeConfig(path, document(['first'], { config: { watch: true, watchDebounceMs: 100 } }));
    gateway = await startGatewayProcess(path);
    writeConfig(path, document(['first', 'second'], { config: { watch: true, watchDebounceMs: 100 } }));
    await eventually(() => linesAbout(gateway!, 'config reloaded').length === 1, 20_000, 'the reload on the file change');
    expect(linesAbout(gateway, 'config reloaded')[0]).toMatchObject({ trigger: 'watch' });
    const client = new OpenAI({ apiKey: 'unused', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
    expect((await client.chat.completions.create({ model: 'second', messages })).choices[0]?.message.content?.length).toBeGreaterThan(0);
  });
});
