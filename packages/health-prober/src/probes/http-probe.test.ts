import { describe, expect, it } from 'vitest';
import { resolveHttpProbeUrl } from './http-probe.js';
import { describeError } from './fetch-failure.js';
import { operationUrl } from './probe-result.js';

const resolve = (baseUrl: string, path: string): string => {
  const url = resolveHttpProbeUrl({ baseUrl, path, expectedStatus: 200, timeoutMs: 1_000 });
  return typeof url === 'string' ? url : url.href;
};

describe('the http probe URL', () => {
  it('puts a path with a leading slash at the server root', () => {
    expect(resolve('http://127.0.0.1:8000/v1', '/health')).toBe('http://127.0.0.1:8000/health');
  });

  it('puts a path without one under the base URL, whatever slashes the base URL ends with', () => {
    expect(resolve('http://127.0.0.1:8000/v1', 'models')).toBe('http://127.0.0.1:8000/v1/models');
    expect(resolve('http://127.0.0.1:8000/v1/', 'models')).toBe('http://127.0.0.1:8000/v1/models');
    expect(resolve('http://127.0.0.1:8000/v1//', 'models')).toBe('http://127.0.0.1:8000/v1/models');
    expect(resolve('http://127.0.0.1:8000', 'health')).toBe('http://127.0.0.1:8000/health');
  });

  it('keeps the query string of the path', () => {
    expect(resolve('http://127.0.0.1:8000/v1', '/health?deep=1')).toBe('http://127.0.0.1:8000/health?deep=1');
  });

  it('accepts an absolute URL on the same origin', () => {
    expect(resolve('http://127.0.0.1:8000/v1', 'http://127.0.0.1:8000/ping')).toBe('http://127.0.0.1:8000/ping');
  });

  it('refuses a path that would take the headers to another origin', () => {
    expect(resolve('http://127.0.0.1:8000/v1', '//127.0.0.2:8000/health')).toBe('path //127.0.0.2:8000/health leaves http://127.0.0.1:8000');
    expect(resolve('http://127.0.0.1:8000/v1', 'http://127.0.0.1:9000/health')).toBe('path http://127.0.0.1:9000/health leaves http://127.0.0.1:8000');
  });

  it('names a base URL or URL it cannot parse', () => {
    expect(resolve('not a url', '/health')).toBe('invalid base URL not a url');
    expect(resolveHttpProbeUrl({ url: '/health', expectedStatus: 200, timeoutMs: 1_000 })).toBe('invalid URL /health');
  });
});

describe('operationUrl', () => {
  it('appends the operation to the path, keeps both queries, and drops user info', () => {
    expect(operationUrl({ baseUrl: 'https://res.example.com/openai/v1/?api-version=2024-10-21', query: { extra: '1' } }, 'models')).toBe(
      'https://res.example.com/openai/v1/models?api-version=2024-10-21&extra=1',
    );
    expect(operationUrl({ baseUrl: 'https://user:secret@api.example.com/v1' }, 'chat/completions')).toBe('https://api.example.com/v1/chat/completions');
  });
});

describe('describeError', () => {
  it('never repeats a URL an error quotes', () => {
    expect(describeError(new TypeError('Request cannot be constructed from a URL that includes credentials: https://u:sk-123@x.example/v1/models'))).toBe(
      'Request cannot be constructed from a URL that includes credentials: <url>',
    );
  });
});
