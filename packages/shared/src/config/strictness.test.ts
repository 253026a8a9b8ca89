import { describe, expect, it } from 'vitest';
import { closestName } from './did-you-mean.js';
import { configErrorOf, MINIMAL_CONFIG } from '../test-support/config-errors.js';
import { parseConfig } from './load.js';

const minimal = MINIMAL_CONFIG;

/** Every problem line of the ConfigError that parsing `text` raises. */
function problems(text: string): readonly string[] {
  return configErrorOf(() => parseConfig(text, 'bad.yaml', {})).problems;
}

describe('unknown keys', () => {
  it('refuses a misspelt price, naming its full path and the key meant', () => {
    const text = `${minimal}      - name: mid\n      - name: big\n        pricing: { inputPerMtok: 3, outputPerMTok: 15 }\n`;
    expect(problems(text)).toEqual(['backends[0].models[2].pricing.inputPerMtok: unknown key; did you mean inputPerMTok?']);
  });

  it('takes cache prices as one number or one per lifetime, and refuses a lifetime it does not know', () => {
    const priced = (pricing: string) => `${minimal}      - name: big\n        pricing: ${pricing}\n`;
    const parsed = parseConfig(priced("{ inputPerMTok: 3, cacheReadPerMTok: 0.3, cacheWritePerMTok: { 5m: 3.75, '1h': 6 } }"), 'good.yaml', {});
    expect(parsed.backends[0]?.models[1]?.pricing).toEqual({ inputPerMTok: 3, outputPerMTok: 0, cacheReadPerMTok: 0.3, cacheWritePerMTok: { '5m': 3.75, '1h': 6 } });
    expect(parseConfig(priced('{ cacheWritePerMTok: 3.75 }'), 'good.yaml', {}).backends[0]?.models[1]?.pricing.cacheWritePerMTok).toBe(3.75);
    expect(problems(priced('{ cacheWritePerMTok: { 5m: 3.75, 10m: 4 } }')).join('\n')).toMatch(/backends\[0\]\.models\[1\]\.pricing\.cacheWritePerMTok/);
  });

  it('refuses a misspelt credential header', () => {
    expect(problems(`${minimal}    apikey_header: api-key\n`)).toEqual(['backends[0].apikey_header: unknown key; did you mean apiKeyHeader?']);
  });

  it('refuses a misspelt server setting', () => {
    expect(problems(`server: { prot: 9000 }\n${minimal}`)).toEqual(['server.prot: unknown key; did you mean port?']);
  });

  it('names an unknown key without a suggestion when nothing is close', () => {
    expect(problems(`${minimal}    colour: blue\n`)).toEqual(['backends[0].colour: unknown key']);
  });

  it('refuses unknown keys at the top level and deep in routing', () => {
    const text = `${minimal}aliasses: { s: small }\nrouting:\n  rules:\n    - { name: r, match: { modle: small }, route: { model: small } }\n`;
    expect(problems(text)).toEqual([
      'routing.rules[0].match.modle: unknown key; did you mean model?',
      'aliasses: unknown key; did you mean aliases?',
    ]);
  });

  it('suggests the names a map keyed by a fixed set allows: virtual models and tiers', () => {
    const text = `${minimal}routing:\n  profiles:\n    autoo: { tiers: { SIMPLE: [small] } }\n    eco: { tiers: { SIMPEL: [small] } }\n`;
    expect(problems(text)).toEqual([
      'routing.profiles.eco.tiers.SIMPEL: unknown key; did you mean SIMPLE?',
      'routing.profiles.autoo: unknown key; did you mean auto?',
    ]);
  });

  it('keeps open maps open: headers, query parameters, rule headers and metadata take any name', () => {
    const text = [
      minimal.trimEnd(),
      '    headers: { HTTP-Referer: https://example.com, X-Title: Example }',
      '    query: { api-version: "2024-10-21" }',
      'routing:',
      '  rules:',
      '    - { name: r, match: { headers: { x-team: "^a$" }, metadata: { tenant: t1 } }, route: { model: small } }',
      '',
    ].join('\n');
    const config = parseConfig(text, 'open.yaml', {});
    expect(config.backends[0]?.headers).toEqual({ 'HTTP-Referer': 'https://example.com', 'X-Title': 'Example' });
    expect(config.backends[0]?.query).toEqual({ 'api-version': '2024-10-21' });
  });
});

describe('all problems in one pass', () => {
  it('reports a schema error, a value error and reference errors together, each with its path', () => {
    const text = [
      'server: { port: 70000 }',
      minimal.trimEnd(),
      '    timeout: { connectMs: 10 }',
      'routing:',
      '  groups: { pool: [small, smal] }',
      '  rules:',
      '    - { name: r1, route: { model: large } }',
      '    - { name: r2, route: { model: small, strategy: cheapest } }',
      '',
    ].join('\n');
    const lines = problems(text);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^server\.port: Too big/),
        'backends[0].timeout: unknown key; did you mean timeouts?',
        'routing.groups.pool[1]: "smal" is not a configured model or alias; did you mean small?',
        'routing.rules[0].route.model: "large" is not a configured model or alias',
        expect.stringMatching(/^routing\.rules\[1\]\.route\.strategy: "cheapest" is not a routing strategy \(known: weighted, .*\)$/),
      ]),
    );
    expect(lines).toHaveLength(5);
  });

  it('checks strategy names with the strategies a caller registered, and skips them while modules are unloaded', () => {
    const text = `${minimal}routing:\n  strategy: mine\n  strategyModules: [./mine.js]\n`;
    expect(() => parseConfig(text, 'modules.yaml', {})).not.toThrow();
    expect(() => parseConfig(text, 'modules.yaml', {}, { strategyNames: ['mine'] })).not.toThrow();
    expect(() => parseConfig(text, 'modules.yaml', {}, { strategyNames: ['other'] })).toThrow(/routing\.strategy: "mine" is not a routing strategy/);
  });
});

describe('closestName', () => {
  it('ignores case, underscores and hyphens, and counts a swap of neighbours as one edit', () => {
    expect(closestName('inputPerMtok', ['inputPerMTok', 'outputPerMTok'])).toBe('inputPerMTok');
    expect(closestName('apikey_header', ['apiKey', 'apiKeyHeader', 'headers'])).toBe('apiKeyHeader');
    expect(closestName('prot', ['host', 'port'])).toBe('port');
  });

  it('suggests nothing for a name far from every known one', () => {
    expect(closestName('colour', ['name', 'baseUrl', 'models'])).toBeUndefined();
  });
});
