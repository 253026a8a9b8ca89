import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configErrorOf, MINIMAL_CONFIG } from '../test-support/config-errors.js';
import { loadConfigFile, parseConfig } from './load.js';

const minimal = MINIMAL_CONFIG;

/** The message of the ConfigError that parsing `text` raises. */
function configError(text: string): string {
  return configErrorOf(() => parseConfig(text, 'bad.yaml', {})).message;
}

describe('parseConfig', () => {
  it('fills every documented default', () => {
    const config = parseConfig(minimal, 'test.yaml', {});
    expect(config.server).toMatchObject({ host: '0.0.0.0', port: 8080, bodyLimit: 10 * 1024 * 1024, shutdownGraceMs: 30_000 });
    expect(config.logging).toEqual({ level: 'info', accessLog: true });
    expect(config.upstream.timeouts).toEqual({ connectMs: 5_000, connectionWaitMs: 1_000, firstByteMs: 60_000, firstTokenMs: 30_000, idleMs: 30_000, totalMs: 600_000 });
    const backend = config.backends[0]!;
    expect(backend).toMatchObject({ kind: 'openai', apiKeyHeader: 'authorization', requestStreamUsage: true, headers: {}, query: {} });
    expect(backend.maxConnections).toBeUndefined();
    expect(backend.http2).toEqual({ mode: 'off', streamsPerConnection: 100 });
    expect(backend.models[0]).toMatchObject({ weight: 1, contextWindow: 128_000, capabilities: ['streaming'] });
    expect(backend.models[0]).not.toHaveProperty('maxOutputTokens');
    expect(backend.models[0]?.pricing).toEqual({ inputPerMTok: 0, outputPerMTok: 0 });
    expect(config.routing).toMatchObject({ strategy: 'weighted', models: {}, groups: {}, rules: [], profiles: {}, sessionAffinity: true, recovery: 'on' });
    expect(config.routing.retry).toEqual({ attempts: 3, initialBackoffMs: 250, maxBackoffMs: 4_000, deadlineMs: 90_000, order: 'model-first', maxRetryAfterMs: 10_000 });
    expect(config.routing.classifier).toEqual({ defaultTier: 'MEDIUM', confidenceThreshold: 0.55, largeInputTokens: 20_000 });
  });

  it('keeps only the retry fields a model sets, so the others come from routing.retry', () => {
    const config = parseConfig(`${minimal}routing:\n  retry: { initialBackoffMs: 20 }\n  models: { small: { retry: { attempts: 5 } } }\n`, 'test.yaml', {});
    expect(config.routing.models.small?.retry).toEqual({ attempts: 5 });
    expect(config.routing.retry.initialBackoffMs).toBe(20);
  });

  it('refuses routing settings that name models, groups or strategies that do not exist', () => {
    const routing = [
      'routing:',
      '  groups: { pool: [small, nothing] }',
      '  models: { ghost: { fallbacks: [small] }, small: { fallbacks: [absent] } }',
      '  rules:',
      '    - { name: r1, match: { lastUserMessage: "(" }, route: { group: nope } }',
      '  profiles: { eco: { tiers: { SIMPLE: [missing] } } }',
      '  savingsBaseline: unknown',
      '',
    ].join('\n');
    expect(configError(`${minimal}${routing}`)).toMatch(/routing\.rules\[0\]\.match\.lastUserMessage: not a valid regular expression/);
  });

  it('checks the names routing refers to', () => {
    const routing = [
      'routing:',
      '  groups: { pool: [small, nothing] }',
      '  models: { ghost: { fallbacks: [small] }, small: { fallbacks: [absent] } }',
      '  rules: [{ name: r1, route: { group: nope } }]',
      '  profiles: { eco: { tiers: { SIMPLE: [missing] } } }',
      '  savingsBaseline: unknown',
      '',
    ].join('\n');
    const message = configError(`${minimal}${routing}`);
    expect(message).toMatch(/routing\.groups\.pool\[1\]: "nothing" is not a configured model or alias/);
    expect(message).toMatch(/routing\.models\.ghost: "ghost" is not a configured model or group/);
    expect(message).toMatch(/routing\.models\.small\.fallbacks\[0\]: "absent" is not a configured model or alias/);
    expect(message).toMatch(/routing\.rules\[0\]\.route\.group: "nope" is not a group/);
    expect(message).toMatch(/routing\.profiles\.eco\.tiers\.SIMPLE\[0\]: "missing" is not a configured model or alias/);
    expect(message).toMatch(/routing\.savingsBaseline: "unknown" is not a configured model or alias/);
  });

  it('gives a kind: anthropic backend Anthropic\'s base URL and the x-api-key header unless it sets its own', () => {
    const text = `backends:\n  - { name: claude, kind: anthropic, apiKey: sk-ant, models: [{ name: sonnet }] }\n  - { name: proxy, kind: anthropic, baseUrl: "http://127.0.0.1:9100", apiKeyHeader: authorization, models: [{ name: haiku }] }\n`;
    const [claude, proxy] = parseConfig(text, 'test.yaml', {}).backends;
    expect(claude).toMatchObject({ kind: 'anthropic', baseUrl: 'https://api.anthropic.com', apiKeyHeader: 'x-api-key' });
    expect(proxy).toMatchObject({ kind: 'anthropic', baseUrl: 'http://127.0.0.1:9100', apiKeyHeader: 'authorization' });
    expect(configError('backends:\n  - { name: local, models: [{ name: small }] }\n')).toMatch(/backends\[0\]\.baseUrl: give exactly one of baseUrl or simulator/);
    expect(configError('backends:\n  - { name: local, kind: grok, baseUrl: "http://127.0.0.1:1/v1", models: [{ name: small }] }\n')).toMatch(/backends\[0\]\.kind/);
  });

  it('gives a kind: gemini backend the Gemini API\'s base URL and the x-goog-api-key header unless it sets its own', () => {
    const text = `backends:\n  - { name: google, kind: gemini, apiKey: AIza-key, models: [{ name: flash }] }\n  - { name: proxy, kind: gemini, baseUrl: "http://127.0.0.1:9100/v1beta", apiKeyHeader: authorization, models: [{ name: pro }] }\n`;
    const [google, proxy] = parseConfig(text, 'test.yaml', {}).backends;
    expect(google).toMatchObject({ kind: 'gemini', baseUrl: 'https://generativelanguage.googleapis.com/v1beta', apiKeyHeader: 'x-goog-api-key' });
    expect(proxy).toMatchObject({ kind: 'gemini', baseUrl: 'http://127.0.0.1:9100/v1beta', apiKeyHeader: 'authorization' });
  });

  it('reads byte sizes written with units', () => {
    const config = parseConfig(`server: { bodyLimit: 512kb }\n${minimal}`, 'test.yaml', {});
    expect(config.server.bodyLimit).toBe(512 * 1024);
  });

  it('names the field and the problem when a value is wrong', () => {
    const text = minimal.replace('http://127.0.0.1:9000/v1', 'not a url');
    expect(() => parseConfig(text, 'bad.yaml', {})).toThrow(/bad\.yaml: invalid configuration\n {2}- backends\[0\]\.baseUrl: /);
  });

  it('names an unknown http2 mode and an unknown http2 field of a backend', () => {
    const withHttp2 = (http2: string) => minimal.replace('http://127.0.0.1:9000/v1', `http://127.0.0.1:9000/v1\n    http2: ${http2}`);
    expect(() => parseConfig(withHttp2('{ mode: always }'), 'bad.yaml', {})).toThrow(/backends\[0\]\.http2\.mode: /);
    expect(() => parseConfig(withHttp2('{ streams: 5 }'), 'bad.yaml', {})).toThrow(/backends\[0\]\.http2/);
    expect(parseConfig(withHttp2('{ mode: on, streamsPerConnection: 50 }'), 'test.yaml', {}).backends[0]!.http2).toEqual({ mode: 'on', streamsPerConnection: 50 });
  });

  it('names a field with the wrong type', () => {
    expect(() => parseConfig(`server: { port: "eighty" }\n${minimal}`, 'bad.yaml', {})).toThrow(/server\.port: /);
  });

  it('refuses a config without backends', () => {
    expect(() => parseConfig('logging: { level: info }', 'empty.yaml', {})).toThrow(/backends: /);
  });

  it('refuses a backend with both or neither of baseUrl and simulator', () => {
    const neither = minimal.replace('    baseUrl: http://127.0.0.1:9000/v1\n', '');
    expect(() => parseConfig(neither, 'bad.yaml', {})).toThrow(/backends\[0\]\.baseUrl: give exactly one of baseUrl or simulator/);
  });

  it('refuses duplicate backends and aliases that point nowhere', () => {
    const text = `${minimal}  - name: local\n    baseUrl: http://127.0.0.1:9001/v1\n    models: [{ name: other }]\naliases:\n  big: missing\n`;
    const error = configErrorOf(() => parseConfig(text, 'bad.yaml', {}));
    expect(error.message).toMatch(/backends\[1\]\.name: duplicate backend "local"/);
    expect(error.message).toMatch(/aliases\.big: no backend serves model "missing"/);
  });

  it('interpolates environment variables and names a missing one', () => {
    const text = minimal.replace('http://127.0.0.1:9000/v1', '${LOCAL_URL}') + '    apiKey: ${LOCAL_KEY}\n';
    const config = parseConfig(text, 'env.yaml', { LOCAL_URL: 'http://127.0.0.1:7/v1', LOCAL_KEY: 'sk-x' });
    expect(config.backends[0]?.baseUrl).toBe('http://127.0.0.1:7/v1');
    expect(() => parseConfig(text, 'env.yaml', { LOCAL_URL: 'http://127.0.0.1:7/v1' })).toThrow(/backends\[0\]\.apiKey: environment variable LOCAL_KEY is not set/);
  });

  it('treats an empty apiKey as no key', () => {
    const config = parseConfig(`${minimal}    apiKey: \${LOCAL_KEY:-}\n`, 'env.yaml', {});
    expect(config.backends[0]?.apiKey).toBeUndefined();
  });

  it('reports YAML syntax errors with the file name', () => {
    expect(() => parseConfig('backends: [', 'broken.yaml', {})).toThrow(/^broken\.yaml: /);
  });
});

describe('the shipped config files', () => {
  const root = fileURLToPath(new URL('../../../../config/', import.meta.url));
  const files = ['demo.yaml', ...readdirSync(`${root}examples`).map((name) => `examples/${name}`)];
  // Every credential set to a dummy; URL variables left unset so that each file's own defaults apply.
  const dummyEnvironment = new Proxy({} as NodeJS.ProcessEnv, {
    get: (_target, name) => (String(name).endsWith('_URL') ? undefined : name === 'AZURE_OPENAI_RESOURCE' ? 'example' : `dummy-${String(name)}`),
  });

  for (const file of files) {
    it(`${file} is valid`, () => {
      expect(() => loadConfigFile(`${root}${file}`, dummyEnvironment)).not.toThrow();
    });
  }

  it('point no backend at the gateway’s own port (llama-server’s default, 8080, is the gateway’s too)', () => {
    for (const file of files.filter((name) => name.startsWith('examples/'))) {
      const config = loadConfigFile(`${root}${file}`, dummyEnvironment);
      for (const backend of config.backends) {
        if (backend.baseUrl === undefined) continue;
        const url = new URL(backend.baseUrl);
        if (['127.0.0.1', 'localhost'].includes(url.hostname)) expect(Number(url.port), `${file}: ${backend.name}`).not.toBe(config.server.port);
      }
    }
  });
});
