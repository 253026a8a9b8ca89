import { describe, expect, it } from 'vitest';
import { GatewayError, configSchema } from '@dosrouter/shared';
import { attemptFailure } from './otel-tracer.js';
import { passThroughTrace } from './request-trace.js';
import { finishReasonsOf, operationNameOf, outputMessagesOf, providerNameOf } from './span-attributes.js';
import { checkEndpointVariables, tracingEnabled } from './start-tracing.js';

const BACKEND = { name: 'sim', baseUrl: 'http://127.0.0.1:9/v1', models: [{ name: 'chat-model' }] };
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('tracingEnabled', () => {
  const tracing = (document: Record<string, unknown> = {}) => configSchema.parse({ backends: [BACKEND], telemetry: { tracing: document } }).telemetry.tracing;

  it('is off by default', () => {
    expect(tracingEnabled(tracing(), {})).toBe(false);
  });

  it('is on when the environment names an OTLP endpoint, unless the config says false', () => {
    expect(tracingEnabled(tracing(), { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingEnabled(tracing(), { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(tracingEnabled(tracing({ enabled: false }), { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(false);
  });

  it('is on when the config says so, unless OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none', () => {
    expect(tracingEnabled(tracing({ enabled: true }), {})).toBe(true);
    expect(tracingEnabled(tracing({ enabled: true }), { OTEL_SDK_DISABLED: 'true' })).toBe(false);
    expect(tracingEnabled(tracing({ enabled: true }), { OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
  });

  it('refuses an endpoint that is not an http(s) URL, naming the field', () => {
    expect(() => tracing({ endpoint: 'collector:4318' })).toThrow(/telemetry.*tracing.*endpoint|endpoint/);
  });
});

describe('checkEndpointVariables', () => {
  it('names the variable that is not an http(s) URL', () => {
    expect(() => checkEndpointVariables({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT must be an http/);
    expect(() => checkEndpointVariables({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'not a url' })).toThrow(/OTEL_EXPORTER_OTLP_TRACES_ENDPOINT/);
  });

  it('accepts http and https URLs, and checks only the variable the exporter uses', () => {
    expect(() => checkEndpointVariables({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.example:4318' })).not.toThrow();
    expect(() => checkEndpointVariables({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces', OTEL_EXPORTER_OTLP_ENDPOINT: 'unused' })).not.toThrow();
    expect(() => checkEndpointVariables({})).not.toThrow();
  });
});

describe('passThroughTrace (tracing off)', () => {
  it("hands every attempt the client's traceparent and tracestate as they came", () => {
    const trace = passThroughTrace({ traceparent: TRACEPARENT, tracestate: 'vendor=value' });
    expect(trace?.attempt(undefined as never, undefined as never).headers).toEqual({ traceparent: TRACEPARENT, tracestate: 'vendor=value' });
  });

  it('is absent without a traceparent, or with one that is not W3C version 00', () => {
    expect(passThroughTrace({})).toBeUndefined();
    expect(passThroughTrace({ traceparent: 'garbage' })).toBeUndefined();
    expect(passThroughTrace({ traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' })).toBeUndefined();
    expect(passThroughTrace({ traceparent: TRACEPARENT.toUpperCase() })).toBeUndefined();
  });

  it('drops an oversized tracestate but keeps the traceparent', () => {
    const trace = passThroughTrace({ traceparent: TRACEPARENT, tracestate: `a=${'x'.repeat(600)}` });
    expect(trace?.attempt(undefined as never, undefined as never).headers).toEqual({ traceparent: TRACEPARENT });
  });

  it('drops a tracestate the W3C grammar does not allow but keeps the traceparent', () => {
    const headersWith = (tracestate: string) => passThroughTrace({ traceparent: TRACEPARENT, tracestate })?.attempt(undefined as never, undefined as never).headers;
    for (const invalid of ['not a list', 'Vendor=value', 'vendor=', 'vendor=a=b', 'vendor=value ,=x', Array.from({ length: 33 }, (_, index) => `k${index}=v`).join(',')]) {
      expect(headersWith(invalid)).toEqual({ traceparent: TRACEPARENT });
    }
    for (const valid of ['vendor=value', 'rojo=00f067aa0ba902b7, congo=t61rcWkgMzE', 'tenant@system=a b', 'a=1,,b=2', 'k*/_-=v~!']) {
      expect(headersWith(valid)).toEqual({ traceparent: TRACEPARENT, tracestate: valid });
    }
  });
});

describe('span attributes', () => {
  it('names operations as the GenAI conventions do', () => {
    expect([operationNameOf('chat/completions'), operationNameOf('completions'), operationNameOf('embeddings')]).toEqual(['chat', 'text_completion', 'embeddings']);
  });

  it('names well-known providers by kind and host, and others by the backend', () => {
    expect(providerNameOf({ kind: 'anthropic', baseUrl: 'https://api.anthropic.com', name: 'claude' })).toBe('anthropic');
    expect(providerNameOf({ kind: 'openai', baseUrl: 'https://api.openai.com/v1', name: 'main' })).toBe('openai');
    expect(providerNameOf({ kind: 'gemini', baseUrl: 'http://127.0.0.1:9/v1beta', name: 'google' })).toBe('gcp.gemini');
    expect(providerNameOf({ kind: 'openai', baseUrl: 'https://generativelanguage.googleapis.com/v1beta/openai', name: 'g' })).toBe('gcp.gemini');
    expect(providerNameOf({ kind: 'openai', baseUrl: 'https://api.groq.com/openai/v1', name: 'fast' })).toBe('groq');
    expect(providerNameOf({ kind: 'openai', baseUrl: 'https://x.openai.azure.com/openai', name: 'az' })).toBe('azure.ai.openai');
    expect(providerNameOf({ kind: 'openai', baseUrl: 'http://vllm:8000/v1', name: 'local-vllm' })).toBe('local-vllm');
  });

  it("reads a non-streamed answer's finish reasons in choice order, and its choices as the output", () => {
    const body = Buffer.from(JSON.stringify({ choices: [{ index: 0, message: { content: 'a' }, finish_reason: 'stop' }, { index: 1, finish_reason: 'length' }] }));
    expect(finishReasonsOf(body)).toEqual(['stop', 'length']);
    expect(JSON.parse(outputMessagesOf(body)!)).toHaveLength(2);
    expect(outputMessagesOf(Buffer.from('not json'))).toBeUndefined();
  });
});

describe('attemptFailure', () => {
  const quoting = (): GatewayError =>
    new GatewayError('This model cannot answer "my secret prompt"', { status: 400, code: 'invalid_request', type: 'invalid_request_error' });

  it("keeps a backend's error message (which may quote the prompt) out of the span without content capture", () => {
    const failed = attemptFailure({ ok: false, error: quoting() }, false);
    expect(failed).toEqual({ status: { code: 2, message: 'invalid_request_error invalid_request (400)' } });
    const threw = attemptFailure(quoting(), false);
    expect(threw?.status.message).toBe('invalid_request_error invalid_request (400)');
    expect(threw?.exception).toEqual({ name: 'GatewayError', code: 'invalid_request' });
    const plain = attemptFailure(new TypeError('fetch failed for "my secret prompt"'), false);
    expect(plain).toEqual({ status: { code: 2, message: 'TypeError' }, exception: { name: 'TypeError' } });
    expect(JSON.stringify([failed, threw, plain])).not.toContain('secret');
  });

  it('records the message and the exception itself with content capture on', () => {
    const error = quoting();
    expect(attemptFailure({ ok: false, error }, true)?.status.message).toBe(error.message);
    expect(attemptFailure(error, true)).toEqual({ status: { code: 2, message: error.message }, exception: error });
  });

  it('marks nothing for a success or an attempt the client cancelled', () => {
    expect(attemptFailure({ ok: true }, false)).toBeUndefined();
    expect(attemptFailure({ ok: false, error: new GatewayError('gone', { status: 499, code: 'client_closed' }) }, false)).toBeUndefined();
  });
});
