import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repository = fileURLToPath(new URL('../../', import.meta.url));
const GATEWAY = join(repository, 'packages/gateway/dist/main.js');
const PROBER = join(repository, 'packages/health-prober/dist/main.js');
const SIMULATOR = join(repository, 'packages/provider-sim/dist/main.js');
const CLI = join(repository, 'scripts/dosrouter.mjs');
const CLUSTER = join(repository, 'scripts/cluster.mjs');

interface Finished {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end (killed after 20 s at most) with only the given variables beyond PATH and HOME. */
function run(command: string, args: readonly string[], environment: Record<string, string> = {}): Promise<Finished> {
  return new Promise((resolve) => {
    execFile(
      command,
      [...args],
      { cwd: repository, timeout: 20_000, killSignal: 'SIGKILL', env: { PATH: process.env.PATH, HOME: process.env.HOME, ...environment } },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

const node = (script: string, args: readonly string[], environment?: Record<string, string>): Promise<Finished> =>
  run(process.execPath, [script, ...args], environment);

describe('--help on every entry point', () => {
  it.each([
    ['the gateway', GATEWAY, /--check/],
    ['the health prober', PROBER, /--config FILE/],
    ['the provider simulator', SIMULATOR, /--port/],
    ['the dosrouter CLI', CLI, /dosrouter check \[--config FILE\]/],
    ['the cluster script', CLUSTER, /--replicas N/],
  ])('%s prints its usage and exits 0, starting nothing', async (_name, script, usage) => {
    const finished = await node(script, ['--help']);
    expect(finished.code).toBe(0);
    expect(finished.stdout).toMatch(/^usage: /i);
    expect(finished.stdout).toMatch(usage);
  });

  it('an unknown flag is refused with the usage and exit code 1', async () => {
    const finished = await node(GATEWAY, ['--chek']);
    expect(finished.code).toBe(1);
    expect(finished.stderr).toMatch(/Unknown option '--chek'/);
    expect(finished.stderr).toMatch(/usage: /);
  });
});

describe('checking a config without starting anything', () => {
  const directory = mkdtempSync(join(tmpdir(), 'dosrouter-check-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  const configFile = (name: string, text: string): string => {
    const path = join(directory, name);
    writeFileSync(path, text);
    return path;
  };
  const valid = configFile(
    'valid.yaml',
    [
      'backends:',
      '  - { name: a, baseUrl: "http://127.0.0.1:1/v1", apiKey: "${A_KEY}", models: [{ name: small }, { name: large, upstreamModel: big-1 }] }',
      '  - { name: b, baseUrl: "http://127.0.0.1:2/v1", models: [{ name: small }] }',
      'aliases: { tiny: small }',
      'routing:',
      '  groups: { pool: [small, large] }',
      '  models: { small: { strategy: latency, fallbacks: [large] } }',
      '  rules: [{ name: batch, match: { headers: { x-team: "^batch$" } }, route: { group: pool, strategy: cost } }]',
      '',
    ].join('\n'),
  );

  it('gateway --check prints backends, models with their deployments, aliases, groups, virtual models, rules and routes, and exits 0', async () => {
    // An unreachable Redis: --check must not connect to it (it would hang or fail if it did).
    const finished = await node(GATEWAY, ['--check', '--config', valid], { A_KEY: 'sk-a', REDIS_URL: 'redis://127.0.0.1:1' });
    expect(finished.stderr).toBe('');
    expect(finished.code).toBe(0);
    const text = finished.stdout;
    expect(text).toContain(`${valid}: valid (cluster mode)`);
    expect(text).toMatch(/backends \(2\):\n {2}a {2}http:\/\/127\.0\.0\.1:1\/v1 {2}openai {2}credential: set {2}models: small, large\n {2}b .*credential: none/);
    expect(text).toMatch(/ {2}small {2}strategy: latency, fallbacks: large\n {4}a\/small {2}upstream: small .*\n {4}b\/small /);
    expect(text).toMatch(/ {4}a\/large {2}upstream: big-1 {2}weight: 1 {2}probe: models every 30000 ms/);
    expect(text).toContain('tiny → small');
    expect(text).toContain('pool → small, large');
    expect(text).toMatch(/virtual models \(3\):\n {2}auto: SIMPLE \[/);
    expect(text).toContain('batch: {"headers":{"x-team":"^batch$"}} → group pool, strategy cost');
    expect(text).toContain('pool (group) → a/small, b/small, a/large');
    expect(text).toContain('tiny (alias) → a/small, b/small');
  });

  it('reports a schema error, a value error and a reference error together, and exits 1', async () => {
    const broken = configFile(
      'broken.yaml',
      [
        'server: { port: 70000 }',
        'backends:',
        '  - name: a',
        '    baseUrl: http://127.0.0.1:1/v1',
        '    apikey_header: api-key',
        '    models: [{ name: small }]',
        'routing:',
        '  rules: [{ name: r, route: { model: smal } }]',
        '',
      ].join('\n'),
    );
    const finished = await node(GATEWAY, ['--check', '-c', broken]);
    expect(finished.code).toBe(1);
    expect(finished.stdout).toBe('');
    expect(finished.stderr).toContain(`${broken}: invalid configuration`);
    expect(finished.stderr).toMatch(/- server\.port: Too big/);
    expect(finished.stderr).toContain('- backends[0].apikey_header: unknown key; did you mean apiKeyHeader?');
    expect(finished.stderr).toContain('- routing.rules[0].route.model: "smal" is not a configured model or alias; did you mean small?');
  });

  it('names DOSROUTER_ADMIN_KEY_FILE when the file it names cannot be read', async () => {
    const finished = await node(GATEWAY, ['--check', '-c', valid], { A_KEY: 'k', DOSROUTER_ADMIN_KEY_FILE: join(directory, 'absent') });
    expect(finished.code).toBe(1);
    expect(finished.stderr).toMatch(/DOSROUTER_ADMIN_KEY_FILE: cannot read .*absent/);
  });

  it('`pnpm -s dosrouter check --json` prints one JSON document and nothing else, so it pipes into jq', async () => {
    const good = await run('pnpm', ['-s', 'dosrouter', 'check', '--json', '--config', valid], { A_KEY: 'sk-a' });
    expect(good.code).toBe(0);
    const summary = JSON.parse(good.stdout) as { valid: boolean; routes: { name: string; deployments: string[] }[] };
    expect(summary.valid).toBe(true);
    expect(summary.routes.find((route) => route.name === 'large')?.deployments).toEqual(['a/large']);
    const bad = await run('pnpm', ['-s', 'dosrouter', 'check', '--json', '--config', valid], {});
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toEqual({ valid: false, problems: ['backends[0].apiKey: environment variable A_KEY is not set'] });
  });

  describe('every shipped config passes `dosrouter check`', () => {
    const files = ['config/demo.yaml', 'config/cluster.yaml', ...readdirSync(join(repository, 'config/examples')).map((name) => `config/examples/${name}`)];
    it.each(files)('%s', async (file) => {
      // Every variable the file needs (one without a default) set to a dummy; the others keep the file's defaults.
      const names = [...readFileSync(join(repository, file), 'utf8').matchAll(/\$\{([A-Z_][A-Z0-9_]*)\}/g)].map((match) => match[1]!);
      const environment = Object.fromEntries(names.map((name) => [name, name === 'AZURE_OPENAI_RESOURCE' ? 'example' : `dummy-${name}`]));
      const finished = await node(CLI, ['check', '--config', file], environment);
      expect(finished.stderr).toBe('');
      expect(finished.code).toBe(0);
      expect(finished.stdout).toContain(`${file}: valid`);
    });
  });
});
