import { describe, expect, it } from 'vitest';
import { ModelCatalog } from '../catalog/catalog.js';
import { ConfigError, parseConfig } from './load.js';
import { backendHeaders } from './backend-headers.js';

const parse = (text: string) => parseConfig(text, 'test.yaml', {});

const config = (probeLines: string, extra = ''): string => `
${extra}
backends:
  - name: vllm
    baseUrl: http://127.0.0.1:8000/v1
${probeLines}
    models:
      - name: llama
      - name: qwen
        probe: { kind: chat, reasoning: true, intervalMs: 60000 }
      - name: quiet
        probe: { enabled: false }
`;

describe('probe settings', () => {
  it('default to a free models probe every 30 s for every deployment', () => {
    const catalog = new ModelCatalog(parse(config('')));
    expect(catalog.deployment('vllm/llama')?.probe).toEqual({ kind: 'models', intervalMs: 30_000, timeoutMs: 10_000 });
  });

  it('combine prober.probe, the backend’s and the model’s overrides field by field', () => {
    const parsed = parse(config('    probe: { kind: http, path: /health, intervalMs: 15000 }', 'prober:\n  probe: { timeoutMs: 2000 }'));
    const catalog = new ModelCatalog(parsed);
    expect(catalog.deployment('vllm/llama')?.probe).toEqual({
      kind: 'http',
      path: '/health',
      expectedStatus: 200,
      sendHeaders: false,
      intervalMs: 15_000,
      timeoutMs: 2_000,
    });
    expect(catalog.deployment('vllm/qwen')?.probe).toEqual({ kind: 'chat', reasoning: true, intervalMs: 60_000, timeoutMs: 2_000 });
    expect(catalog.deployment('vllm/quiet')?.probe).toBeUndefined();
  });

  it('refuse a timeout not shorter than the interval, and an http probe without a path, naming the deployment', () => {
    expect(() => parse(config('    probe: { intervalMs: 1000, timeoutMs: 1000 }'))).toThrow(
      /backends\[0\]\.models\[0\]\.probe.*timeoutMs \(1000\) must be shorter than intervalMs \(1000\)/s,
    );
    expect(() => parse(config('    probe: { kind: http }'))).toThrow(ConfigError);
    expect(() => parse(config('    probe: { kind: http }'))).toThrow(/http probe needs a path/);
  });

  it('recompute the weights at most every half staleness, by default a third of it when that is under 10 s', () => {
    expect(parse(config('')).prober.recomputeIntervalMs).toBe(10_000);
    expect(parse(config('', 'weights: { staleAfterMs: 6000 }')).prober.recomputeIntervalMs).toBe(2_000);
    expect(() => parse(config('', 'weights: { staleAfterMs: 6000 }\nprober: { recomputeIntervalMs: 4000 }'))).toThrow(
      /prober\.recomputeIntervalMs.*at most half of weights\.staleAfterMs/s,
    );
  });
});

describe('backendHeaders', () => {
  it('sends the credential as a bearer token or raw in the configured header, with header names lower-cased', () => {
    expect(backendHeaders({ headers: { 'HTTP-Referer': 'https://x' }, apiKey: 'sk-1', apiKeyHeader: 'authorization' })).toEqual({
      'user-agent': 'dosrouter/0.1',
      'http-referer': 'https://x',
      authorization: 'Bearer sk-1',
    });
    expect(backendHeaders({ headers: {}, apiKey: 'az-1', apiKeyHeader: 'api-key' })).toEqual({ 'user-agent': 'dosrouter/0.1', 'api-key': 'az-1' });
    expect(backendHeaders({ headers: {}, apiKey: undefined, apiKeyHeader: 'authorization' })).toEqual({ 'user-agent': 'dosrouter/0.1' });
  });

  it('adds anthropic-version for a kind: anthropic backend, which its own headers may override', () => {
    expect(backendHeaders({ kind: 'anthropic', headers: {}, apiKey: 'sk-ant-1', apiKeyHeader: 'x-api-key' })).toEqual({
      'user-agent': 'dosrouter/0.1',
      'anthropic-version': '2023-06-01',
      'x-api-key': 'sk-ant-1',
    });
    expect(backendHeaders({ kind: 'anthropic', headers: { 'Anthropic-Version': '2024-01-01', 'anthropic-beta': 'x' }, apiKey: undefined, apiKeyHeader: 'x-api-key' })).toEqual({
      'user-agent': 'dosrouter/0.1',
      'anthropic-version': '2024-01-01',
      'anthropic-beta': 'x',
    });
  });
});
