import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSighupWhileStartingSurvived, heldConfigFile } from '../../shared/src/test-support/held-startup.js';
import { mainScript, repository, spawnGatewayProcess, startGatewayProcess as startMain, type GatewayProcess as Started } from './test-support/gateway-process.js';

describe('the gateway process with the demo config', () => {
  let started: Started;
  beforeAll(async () => {
    started = await startMain([]);
  });
  afterAll(() => {
    if (started.child.exitCode === null) started.child.kill('SIGKILL');
  });

  it('answers the openai client at once, streaming too', async () => {
    const client = new OpenAI({ apiKey: 'unused', baseURL: `${started.url}/v1`, maxRetries: 0 });
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello!' }] });
    expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
    const stream = await client.chat.completions.create({ model: 'vision', messages: [{ role: 'user', content: 'Hello!' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text.split(' ')).toHaveLength(32);
    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).toEqual(expect.arrayContaining(['fast', 'capable', 'vision', 'embed']));
  });

  it('drains on SIGTERM, logs that it stopped and exits 0', async () => {
    started.child.kill('SIGTERM');
    const [code] = (await once(started.child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(started.lines.map((line) => line.message)).toEqual(expect.arrayContaining(['draining', 'stopped']));
  });
});

describe('the gateway process with a bad config', () => {
  it('stops at start with a message that names the field', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'dosrouter-config-'));
    const path = join(directory, 'bad.yaml');
    writeFileSync(path, 'backends:\n  - name: x\n    baseUrl: ftp://nowhere\n    models: [{ name: m }]\n');
    const child = spawn(process.execPath, [mainScript, '--config', path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(stderr).toContain(`${path}: invalid configuration`);
    expect(stderr).toContain('backends[0].baseUrl');
  });
});

describe('the gateway process with its admin key in a file (a Docker or Kubernetes secret)', () => {
  let started: Started;
  const directory = mkdtempSync(join(tmpdir(), 'dosrouter-secret-'));
  beforeAll(async () => {
    const path = join(directory, 'admin_key');
    writeFileSync(path, 'admin-key-from-file\n');
    started = await startMain([], { DOSROUTER_ADMIN_KEY_FILE: path, DOSROUTER_ADMIN_KEY: '' });
  });
  afterAll(() => {
    if (started.child.exitCode === null) started.child.kill('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
  });

  it('takes the file’s text, without its trailing newline, as the admin key', async () => {
    const list = (key: string): Promise<Response> => fetch(`${started.url}/admin/keys`, { headers: { authorization: `Bearer ${key}` } });
    expect((await list('admin-key-from-file')).status).toBe(200);
    expect((await list('not-the-admin-key')).status).toBe(401);
  });
});

describe('the gateway process sent SIGHUP while it starts', () => {
  it('stays up, serves /healthz and reloads once it is up', async () => {
    // Its startup blocks reading a config that is a named pipe until the test writes it: the SIGHUP surely comes first.
    const config = heldConfigFile(readFileSync(join(repository, 'config/demo.yaml'), 'utf8'));
    const { child, ...output } = spawnGatewayProcess(['--config', config.path]);
    await expectSighupWhileStartingSurvived(child, output, config);
  }, 60_000);
});
