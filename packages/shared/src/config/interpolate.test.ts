import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configErrorOf, MINIMAL_CONFIG } from '../test-support/config-errors.js';
import { parseConfig } from './load.js';

const minimal = MINIMAL_CONFIG;

const problemsOf = (run: () => unknown): readonly string[] => configErrorOf(run).problems;

describe('${VAR} references', () => {
  it('are read in values only: a provider commented out does not need its key', () => {
    const text = `${minimal}#  - name: openai\n#    baseUrl: https://api.openai.com/v1\n#    apiKey: \${MISSING_KEY}\n`;
    expect(parseConfig(text, 'commented.yaml', {}).backends).toHaveLength(1);
  });

  it('take defaults for unset or empty variables and keep an escaped $${NAME} literally', () => {
    const text = `${minimal}    apiKey: \${KEY:-fallback}\n    headers: { x-literal: "$\${HOME}", x-mixed: "a-\${PART}-b" }\n`;
    const backend = parseConfig(text, 'env.yaml', { KEY: '', PART: 'middle' }).backends[0]!;
    expect(backend.apiKey).toBe('fallback');
    expect(backend.headers).toEqual({ 'x-literal': '${HOME}', 'x-mixed': 'a-middle-b' });
  });

  it('give an unquoted value the type its text has in YAML, as if written out', () => {
    const config = parseConfig(`server:\n  port: \${PORT}\n  host: "\${HOST}"\n${minimal}    apiKey: \${KEY:-}\n`, 'env.yaml', { PORT: '9100', HOST: '1' });
    expect(config.server.port).toBe(9100);
    expect(config.server.host).toBe('1');
    expect(config.backends[0]?.apiKey).toBeUndefined();
  });

  it('name every value whose variable is missing, once each', () => {
    const text = `server: { host: "\${ONE}" }\n${minimal.replace('http://127.0.0.1:9000/v1', '${TWO}')}`;
    expect(problemsOf(() => parseConfig(text, 'env.yaml', {}))).toEqual([
      'server.host: environment variable ONE is not set',
      'backends[0].baseUrl: environment variable TWO is not set',
    ]);
  });

  it('must be quoted inside a flow collection, and the YAML error says so', () => {
    expect(() => parseConfig(`server: { port: \${PORT} }\n${minimal}`, 'flow.yaml', { PORT: '1' })).toThrow(/a \$\{…\} reference inside \{ \} or \[ \] must be quoted/);
  });
});

describe('${file:…} references', () => {
  const directory = mkdtempSync(join(tmpdir(), 'dosrouter-secret-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('read a secret file, without its trailing newline', () => {
    const path = join(directory, 'openai-key');
    writeFileSync(path, 'sk-from-file\n');
    const config = parseConfig(`${minimal}    apiKey: \${file:${path}}\n`, 'secret.yaml', {});
    expect(config.backends[0]?.apiKey).toBe('sk-from-file');
  });

  it('name the field and the file when it cannot be read', () => {
    const path = join(directory, 'absent');
    expect(problemsOf(() => parseConfig(`${minimal}    apiKey: \${file:${path}}\n`, 'secret.yaml', {}))).toEqual([
      expect.stringMatching(new RegExp(`^backends\\[0\\]\\.apiKey: cannot read secret file ${path}: ENOENT`)),
    ]);
  });

  it('are not read inside comments', () => {
    const text = `${minimal}    # apiKey: \${file:${join(directory, 'absent')}}\n`;
    expect(parseConfig(text, 'secret.yaml', {}).backends[0]?.apiKey).toBeUndefined();
  });
});
