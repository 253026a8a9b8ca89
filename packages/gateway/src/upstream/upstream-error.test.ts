import { describe, expect, it } from 'vitest';
import { fromErrorResponse, fromTransportError, parseRetryAfterMs } from './upstream-error.js';

const now = Date.parse('2026-01-01T00:00:00Z');

describe('fromErrorResponse', () => {
  it('keeps the backend’s status, message, type, param and code', () => {
    const body = JSON.stringify({ error: { message: 'max_tokens is too large', type: 'invalid_request_error', param: 'max_tokens', code: 'invalid_value' } });
    const error = fromErrorResponse(400, {}, body, 'a/m', now);
    expect(error.toBody()).toEqual({ error: { message: 'max_tokens is too large', type: 'invalid_request_error', param: 'max_tokens', code: 'invalid_value' } });
    expect(error.status).toBe(400);
    expect(error.retryable).toBe(false);
  });

  it('marks 429 retryable and carries retry-after', () => {
    const error = fromErrorResponse(429, { 'retry-after': '7' }, '{"error":{"message":"slow down"}}', 'a/m', now);
    expect(error).toMatchObject({ status: 429, retryable: true, retryAfterSeconds: 7, type: 'rate_limit_error' });
  });

  it('reads the other error shapes OpenAI-compatible servers use', () => {
    expect(fromErrorResponse(500, {}, '{"error":"model crashed"}', 'a/m', now).message).toBe('model crashed');
    expect(fromErrorResponse(422, {}, '{"detail":"bad field"}', 'a/m', now).message).toBe('bad field');
    expect(fromErrorResponse(503, {}, 'upstream connect error', 'a/m', now).message).toBe('upstream connect error');
    expect(fromErrorResponse(502, {}, '', 'a/m', now).message).toBe('The backend for a/m answered with status 502.');
  });

  it('turns a refused backend credential into a 502 without the backend’s text', () => {
    const error = fromErrorResponse(401, {}, '{"error":{"message":"Incorrect API key provided: sk-proj-****abcd"}}', 'a/m', now);
    expect(error.status).toBe(502);
    expect(error.code).toBe('upstream_authentication_failed');
    expect(error.message).not.toContain('sk-');
  });
});

describe('fromErrorResponse with an Anthropic backend', () => {
  const anthropicError = (type: string, message: string) => JSON.stringify({ type: 'error', error: { type, message }, request_id: 'req_011CSHoEeqs5C35K2UUqR7Fy' });

  it('turns 529 overloaded_error into a retryable 503 that keeps the retry-after', () => {
    const error = fromErrorResponse(529, { 'retry-after': '2' }, anthropicError('overloaded_error', 'Overloaded'), 'a/m', now);
    expect(error.toBody()).toEqual({ error: { message: 'Overloaded', type: 'server_error', param: null, code: 'upstream_overloaded' } });
    expect(error).toMatchObject({ status: 503, retryable: true, retryAfterSeconds: 2 });
    expect(fromErrorResponse(529, {}, 'Overloaded', 'a/m', now)).toMatchObject({ status: 503, code: 'upstream_overloaded', retryable: true });
  });

  it('keeps a 429 rate_limit_error retryable with its retry-after', () => {
    const error = fromErrorResponse(429, { 'retry-after': '30' }, anthropicError('rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'), 'a/m', now);
    expect(error).toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'rate_limit_error', retryable: true, retryAfterMs: 30_000 });
  });

  it('reads a prompt that is too long as context_length_exceeded, and other 400s as final', () => {
    const long = fromErrorResponse(400, {}, anthropicError('invalid_request_error', 'prompt is too long: 215000 tokens > 200000 maximum'), 'a/m', now);
    expect(long).toMatchObject({ status: 400, code: 'context_length_exceeded', type: 'invalid_request_error', retryable: false });
    const bad = fromErrorResponse(400, {}, anthropicError('invalid_request_error', 'messages: roles must alternate'), 'a/m', now);
    expect(bad).toMatchObject({ status: 400, code: 'invalid_request', retryable: false });
  });

  it('turns api_error into a retryable server error with the backend’s own 5xx status', () => {
    expect(fromErrorResponse(500, {}, anthropicError('api_error', 'Internal server error'), 'a/m', now)).toMatchObject({ status: 500, code: 'upstream_error', type: 'server_error', retryable: true });
    expect(fromErrorResponse(503, {}, anthropicError('api_error', 'Service unavailable'), 'a/m', now)).toMatchObject({ status: 503, code: 'upstream_error', retryable: true });
  });
});

describe('fromTransportError', () => {
  it('maps undici timeouts to 504 and everything else to 502', () => {
    expect(fromTransportError(Object.assign(new Error('t'), { code: 'UND_ERR_HEADERS_TIMEOUT' }), 'a/m', undefined).status).toBe(504);
    expect(fromTransportError(Object.assign(new Error('t'), { code: 'UND_ERR_CONNECT_TIMEOUT' }), 'a/m', undefined).status).toBe(504);
    expect(fromTransportError(Object.assign(new Error('t'), { code: 'ECONNREFUSED' }), 'a/m', undefined).status).toBe(502);
    expect(fromTransportError(new Error('aborted'), 'a/m', 'total deadline').message).toMatch(/total deadline/);
    expect(fromTransportError(new Error('aborted'), 'a/m', 'first token').message).toMatch(/first token/);
  });
});

describe('fromErrorResponse with Gemini errors', () => {
  const gemini = (code: number, status: string, message: string, details?: unknown[]) => JSON.stringify({ error: { code, message, status, ...(details ? { details } : {}) } });

  it('reads RESOURCE_EXHAUSTED as a retryable 429 whose RetryInfo delay is the retry-after', () => {
    const body = gemini(429, 'RESOURCE_EXHAUSTED', 'You exceeded your current quota.', [
      { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [] },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '37s' },
    ]);
    expect(fromErrorResponse(429, {}, body, 'g/m', now)).toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'rate_limit_error', retryable: true, retryAfterMs: 37_000, retryAfterSeconds: 37 });
    // A retry-after header, where a proxy in front sends one, wins.
    expect(fromErrorResponse(429, { 'retry-after': '2' }, body, 'g/m', now)).toMatchObject({ retryAfterMs: 2_000 });
    expect(fromErrorResponse(429, {}, gemini(429, 'RESOURCE_EXHAUSTED', 'quota', [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '0.5s' }]), 'g/m', now)).toMatchObject({ retryAfterMs: 500 });
  });

  it('reads UNAVAILABLE and INTERNAL as retryable server errors, INVALID_ARGUMENT as the request at fault', () => {
    expect(fromErrorResponse(503, {}, gemini(503, 'UNAVAILABLE', 'The model is overloaded.'), 'g/m', now)).toMatchObject({ status: 503, code: 'upstream_overloaded', type: 'server_error', retryable: true });
    expect(fromErrorResponse(500, {}, gemini(500, 'INTERNAL', 'An internal error has occurred.'), 'g/m', now)).toMatchObject({ status: 500, code: 'upstream_error', retryable: true });
    expect(fromErrorResponse(400, {}, gemini(400, 'INVALID_ARGUMENT', '* GenerateContentRequest.contents: contents is not specified'), 'g/m', now)).toMatchObject({
      status: 400,
      code: 'invalid_request',
      type: 'invalid_request_error',
      retryable: false,
      message: '* GenerateContentRequest.contents: contents is not specified',
    });
    expect(fromErrorResponse(400, {}, gemini(400, 'INVALID_ARGUMENT', 'The input token count (1048577) exceeds the maximum number of tokens allowed (1048576).'), 'g/m', now).code).toBe('context_length_exceeded');
  });

  it('reads a refused API key (400 with reason API_KEY_INVALID) as the gateway credential refused', () => {
    const body = gemini(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' }]);
    expect(fromErrorResponse(400, {}, body, 'g/m', now)).toMatchObject({ status: 502, code: 'upstream_authentication_failed' });
  });
});

describe('parseRetryAfterMs', () => {
  it('prefers retry-after-ms, then seconds, then an HTTP date', () => {
    expect(parseRetryAfterMs({ 'retry-after-ms': '1500', 'retry-after': '9' }, now)).toBe(1500);
    expect(parseRetryAfterMs({ 'retry-after': '3' }, now)).toBe(3000);
    expect(parseRetryAfterMs({ 'retry-after': 'Thu, 01 Jan 2026 00:00:10 GMT' }, now)).toBe(10_000);
    expect(parseRetryAfterMs({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(parseRetryAfterMs({}, now)).toBeUndefined();
  });
});
