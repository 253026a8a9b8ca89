import type { IncomingHttpHeaders } from 'node:http';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  defaultTextMapGetter,
  defaultTextMapSetter,
  diag,
  DiagLogLevel,
  trace,
  type Attributes,
  type Exception,
  type Span,
  type SpanStatus,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { GatewayError, failureKind, type Deployment, type Logger, type RoutePlan } from '@dosrouter/shared';
import { totalsOf, type RequestOutcome } from '../../proxy/request-outcome.js';
import type { AttemptResult } from '../../upstream/attempt.js';
import { retryAfterMsOf } from '../../upstream/attempt-layers.js';
import type { Backend, Operation } from '../../upstream/backend.js';
import type { ProxiedRequest } from '../../validation/request-fields.js';
import { GEN_AI, attemptAttributes, operationNameOf, finishReasonsOf, outputMessagesOf, requestAttributes, routingAttributes } from './span-attributes.js';
import type { AttemptTrace, RequestIdentity, RequestTrace, RequestTracer } from './request-trace.js';

/** The longest a shutdown waits for the last spans to reach the collector: a dead collector must not hold a drain. */
const SHUTDOWN_EXPORT_MS = 2_000;

export interface OtelTracerOptions {
  /** Unset: the exporter's own OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT / localhost:4318. */
  readonly endpoint?: string;
  readonly captureContent: boolean;
  /** `service.instance.id`. */
  readonly replica: string;
  readonly logger: Logger;
  /** The request clock (performance.now()): span times are given on it. */
  readonly clock: () => number;
}

/**
 * The OpenTelemetry SDK, loaded only when tracing is on (start-tracing.ts imports this module lazily). Spans go
 * through a BatchSpanProcessor (a bounded queue, OTEL_BSP_MAX_QUEUE_SIZE, default 2048; past it spans are dropped)
 * to the OTLP/HTTP exporter, off the request path: ending a span only queues it. The sampler is the SDK's, from
 * OTEL_TRACES_SAMPLER (default parentbased_always_on: a client's sampled flag is honoured). No global provider and no
 * context manager are installed: parents are passed explicitly.
 */
export function createOtelTracer(options: OtelTracerOptions): RequestTracer {
  const { logger, clock, captureContent } = options;
  // Export failures (collector down) are the SDK's own errors: logged as warnings, never thrown into a request.
  diag.setLogger(
    {
      error: (message) => logger.warn('tracing: export failed', { detail: message }),
      warn: (message) => logger.warn('tracing', { detail: message }),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'dosrouter-gateway', 'service.instance.id': options.replica }).merge(
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the defaults above.
    detectResources({ detectors: [envDetector] }),
  );
  const exporter = new OTLPTraceExporter(options.endpoint ? { url: options.endpoint } : {});
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  const tracer = provider.getTracer('dosrouter-gateway');
  const propagator = new W3CTraceContextPropagator();
  const settings: SpanSettings = { tracer, propagator, clock, captureContent };

  return {
    startRequest(headers, identity) {
      return new OtelRequestTrace(settings, headers, identity);
    },
    async shutdown() {
      let timer: NodeJS.Timeout | undefined;
      const giveUp = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, SHUTDOWN_EXPORT_MS);
        timer.unref();
      });
      await Promise.race([provider.shutdown().catch(() => undefined), giveUp]);
      clearTimeout(timer);
    },
  };
}

interface SpanSettings {
  readonly tracer: Tracer;
  readonly propagator: W3CTraceContextPropagator;
  readonly clock: () => number;
  readonly captureContent: boolean;
}

/** One request's spans: the server span, the routing span under it, and one client span per attempt. */
class OtelRequestTrace implements RequestTrace {
  private readonly span: Span;
  private readonly parent;
  private operation: Operation | undefined;
  private validatedAt: number | undefined;
  /** The plan's longest retry-after wait: a longer one makes a retryable failure a failover. */
  private maxRetryAfterMs = Number.POSITIVE_INFINITY;
  private ended_ = false;

  constructor(
    private readonly settings: SpanSettings,
    headers: IncomingHttpHeaders,
    { method, route, path, requestId }: RequestIdentity,
  ) {
    // The client's traceparent, when valid, makes this span its child; otherwise a new trace starts here.
    const clientContext = settings.propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
    // HTTP conventions: "{method} {route}", or the method alone for a path that is not a known route.
    const known = route !== 'other';
    const attributes: Attributes = { 'http.request.method': method, 'url.path': path, 'dosrouter.request_id': requestId };
    if (known) attributes['http.route'] = route;
    this.span = settings.tracer.startSpan(known ? `${method} ${route}` : method, { kind: SpanKind.SERVER, attributes }, clientContext);
    this.parent = trace.setSpan(ROOT_CONTEXT, this.span);
  }

  validated(operation: Operation, proxied: ProxiedRequest): void {
    this.operation = operation;
    this.validatedAt = this.settings.clock();
    if (!this.span.isRecording()) return;
    this.span.setAttributes(requestAttributes(operation, proxied, this.settings.captureContent));
  }

  planned(plan: RoutePlan): void {
    this.maxRetryAfterMs = plan.retry.maxRetryAfterMs;
    if (!this.span.isRecording()) return;
    const routing = this.settings.tracer.startSpan(
      `route ${plan.requestedModel}`,
      { kind: SpanKind.INTERNAL, attributes: routingAttributes(plan), ...(this.validatedAt === undefined ? {} : { startTime: this.validatedAt }) },
      this.parent,
    );
    routing.end();
    this.span.setAttributes({
      'dosrouter.routing.target': plan.target,
      'dosrouter.routing.strategy': plan.strategy.name,
      ...(plan.rule ? { 'dosrouter.routing.rule': plan.rule } : {}),
      ...(plan.classification ? { 'dosrouter.routing.tier': plan.classification.tier } : {}),
    });
  }

  attempt(deployment: Deployment, backend: Backend): AttemptTrace {
    const operationName = operationNameOf(this.operation);
    const span = this.settings.tracer.startSpan(
      `${operationName} ${deployment.upstreamModel}`,
      { kind: SpanKind.CLIENT, attributes: attemptAttributes(operationName, deployment, backend) },
      this.parent,
    );
    const headers: Record<string, string> = {};
    this.settings.propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, defaultTextMapSetter);
    const { captureContent } = this.settings;
    let answered: Buffer | undefined;
    return {
      headers,
      ...(span.isRecording() ? { answered: (body: Buffer) => void (answered = body) } : {}),
      ended: (result, outcome) => {
        if (!span.isRecording()) return;
        span.setAttributes(attemptOutcomeAttributes(result, outcome, this.maxRetryAfterMs));
        if (answered) span.setAttributes(answerAttributes(answered, captureContent));
        const failure = attemptFailure(result, captureContent);
        if (failure?.exception) span.recordException(failure.exception);
        if (failure) span.setStatus(failure.status);
        span.end();
      },
    };
  }

  ended(outcome: Readonly<RequestOutcome>, status: number): void {
    if (this.ended_) return;
    this.ended_ = true;
    const { span } = this;
    if (span.isRecording()) {
      const totals = totalsOf(outcome);
      const attributes: Attributes = { 'http.response.status_code': status, 'dosrouter.attempts': outcome.attempts };
      if (outcome.deployment) attributes['dosrouter.deployment'] = outcome.deployment;
      if (outcome.model) attributes[GEN_AI.responseModel] = outcome.model;
      if (outcome.usage || outcome.charges) {
        attributes[GEN_AI.inputTokens] = totals.promptTokens;
        attributes[GEN_AI.outputTokens] = totals.completionTokens;
        attributes['dosrouter.cost_usd'] = totals.costUsd;
        if (totals.estimated) attributes['dosrouter.usage_estimated'] = true;
      }
      if (outcome.errorCode) attributes['error.type'] = outcome.errorCode;
      span.setAttributes(attributes);
      // A server span is an error for 5xx only: a 4xx is the client's (OpenTelemetry's HTTP conventions).
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, ...(outcome.errorCode ? { message: outcome.errorCode } : {}) });
    }
    span.end();
  }
}

/**
 * How a failed attempt marks its span: an error status, and an exception event when it threw; nothing for a success or
 * a cancelled attempt. A backend's error message may quote the prompt: it goes in only with content capture on;
 * otherwise the error's type, code and HTTP status (or the thrown error's name) stand for it.
 */
export function attemptFailure(result: AttemptResult | Error, captureContent: boolean): { readonly status: SpanStatus; readonly exception?: Exception } | undefined {
  const summary = (error: Error): string => (error instanceof GatewayError ? `${error.type} ${error.code} (${error.status})` : error.name);
  if (result instanceof Error) {
    const exception = captureContent ? result : { name: result.name, ...(result instanceof GatewayError ? { code: result.code } : {}) };
    return { status: { code: SpanStatusCode.ERROR, message: captureContent ? result.message : summary(result) }, exception };
  }
  if (result.ok || result.error.code === 'client_closed') return undefined;
  return { status: { code: SpanStatusCode.ERROR, message: captureContent ? result.error.message : summary(result.error) } };
}

/** What became of an attempt: outcome, TTFT, usage, and why it failed (and so why the next one was made). */
function attemptOutcomeAttributes(result: AttemptResult | Error, outcome: Readonly<RequestOutcome>, maxRetryAfterMs: number): Attributes {
  const attributes: Attributes = {};
  if (result instanceof Error) {
    attributes['dosrouter.attempt.outcome'] = 'threw';
    attributes['error.type'] = result.name;
    return attributes;
  }
  if (result.ok) {
    attributes['dosrouter.attempt.outcome'] = outcome.errorCode ? 'ended_early' : 'ok';
    if (outcome.errorCode) attributes['error.type'] = outcome.errorCode;
    if (outcome.usage) {
      attributes[GEN_AI.inputTokens] = outcome.usage.promptTokens;
      attributes[GEN_AI.outputTokens] = outcome.usage.completionTokens;
    }
  } else if (result.error.code === 'client_closed') {
    // Not the backend's failure: the client left, or a racing (hedged) attempt won and this one was stopped.
    attributes['dosrouter.attempt.outcome'] = 'cancelled';
  } else {
    const { error } = result;
    attributes['dosrouter.attempt.outcome'] = result.broke ? 'broke' : 'failed';
    attributes['error.type'] = error.code;
    attributes['http.response.status_code'] = error.status;
    // As the proxy handler judges it: `retry` (the same deployment again), `failover`, `larger_context` or `final`.
    const { status, code, retryable } = error;
    attributes['dosrouter.attempt.retry_reason'] = result.broke
      ? `broke: ${result.broke}`
      : failureKind({ status, code, retryable, retryAfterMs: retryAfterMsOf(error) }, maxRetryAfterMs);
  }
  const started = outcome.upstreamStartedAt;
  if (outcome.stream && started !== undefined && outcome.firstTokenAt !== undefined) {
    attributes[GEN_AI.timeToFirstChunk] = Math.round(outcome.firstTokenAt - started) / 1000;
  }
  if (outcome.connectionWaitMs) attributes['dosrouter.attempt.connection_wait_ms'] = outcome.connectionWaitMs;
  return attributes;
}

function answerAttributes(body: Buffer, captureContent: boolean): Attributes {
  const attributes: Attributes = {};
  const reasons = finishReasonsOf(body);
  if (reasons.length > 0) attributes[GEN_AI.finishReasons] = reasons;
  if (captureContent) {
    const output = outputMessagesOf(body);
    if (output !== undefined) attributes[GEN_AI.outputMessages] = output;
  }
  return attributes;
}
