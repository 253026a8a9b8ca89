import { afterEach, describe, expect, it } from 'vitest';
import { configSchema, type BackendConfig } from '@dosrouter/shared';
import { Backend } from './backend.js';

const TIMEOUTS = configSchema.parse({ backends: [{ name: 'x', baseUrl: 'http://127.0.0.1:1/v1', models: [{ name: 'm' }] }] }).upstream.timeouts;
const opened: Backend[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((backend) => backend.destroy()));
});

function backend(fields: Record<string, unknown>): Backend {
  const config: BackendConfig = configSchema.parse({ backends: [{ name: 'b', models: [{ name: 'm' }], ...fields }] }).backends[0]!;
  const made = new Backend(config, config.baseUrl!, TIMEOUTS);
  opened.push(made);
  return made;
}

describe('Backend.path', () => {
  it('puts an OpenAI operation below the base URL, with the configured query', () => {
    expect(backend({ baseUrl: 'https://example.com/openai/v1', query: { 'api-version': '2025-04-01' } }).path('chat/completions')).toBe('/openai/v1/chat/completions?api-version=2025-04-01');
  });

  it("names a Gemini deployment's model in the path, and keeps the stream's alt=sse before the configured query", () => {
    const gemini = backend({ kind: 'gemini', apiKey: 'AIza-key' });
    expect(gemini.baseUrl).toBe('https://generativelanguage.googleapis.com/v1beta');
    expect(gemini.baseHeaders).toMatchObject({ 'x-goog-api-key': 'AIza-key' });
    expect(gemini.path('generateContent', 'gemini-2.5-flash')).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(gemini.path('streamGenerateContent', 'gemini-2.5-flash')).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    const proxied = backend({ kind: 'gemini', baseUrl: 'https://proxy.example.com/gemini/v1beta', query: { team: 'a b' } });
    expect(proxied.path('streamGenerateContent', 'tuned/model')).toBe('/gemini/v1beta/models/tuned%2Fmodel:streamGenerateContent?alt=sse&team=a+b');
    expect(proxied.path('models')).toBe('/gemini/v1beta/models?team=a+b');
    expect(() => proxied.path('chat/completions')).toThrow(/does not serve chat\/completions/);
  });
});
