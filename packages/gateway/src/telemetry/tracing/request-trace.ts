import type { IncomingHttpHeaders } from 'node:http';
import type { Deployment, RoutePlan } from '@dosrouter/shared';
import type { RequestOutcome } from '../../proxy/request-outcome.js';
import type { AttemptResult } from '../../upstream/attempt.js';
import type { Backend, Operation } from '../../upstream/backend.js';
import type { ProxiedRequest } from '../../validation/request-fields.js';

/**
 * What one request's trace is told, by the request's RequestContext (its transitions) and by the attempt layer
 * (`traceAttempts`). Two kinds: OpenTelemetry spans when tracing is on (otel-tracer.ts), or, when it is off, the
 * client's own `traceparent` passed to the backends unchanged (`passThroughTrace`).
 */
export interface RequestTrace {
  /** The request is valid and will be forwarded: what it asks for (GenAI request attributes; its text if opted in). */
  validated(operation: Operation, proxied: ProxiedRequest): void;
  /** Routing decided: the routing span, from `validated` to now. */
  planned(plan: RoutePlan): void;
  /** An attempt on `deployment` begins: its span, and the trace headers its upstream request carries. */
  attempt(deployment: Deployment, backend: Backend): AttemptTrace;
  /** The response closed and the handler is done: the request's span ends with what the outcome says. */
  ended(outcome: Readonly<RequestOutcome>, status: number): void;
}

export interface AttemptTrace {
  /** `traceparent` (and `tracestate`) for the attempt's upstream request. */
  readonly headers: Readonly<Record<string, string>>;
  /** Present when the trace wants a non-streamed answer's body (finish reasons, the answer's text). */
  readonly answered?: (body: Buffer) => void;
  /** The attempt is over: its result, or what it threw. */
  ended(result: AttemptResult | Error, outcome: Readonly<RequestOutcome>): void;
}

/** What a request's span is named and labelled with. `route` is the metrics label: a known API path, or `other`. */
export interface RequestIdentity {
  readonly method: string;
  readonly route: string;
  readonly path: string;
  readonly requestId: string;
}

/** Makes each request's trace: built once per gateway when tracing is on. */
export interface RequestTracer {
  startRequest(headers: IncomingHttpHeaders, identity: RequestIdentity): RequestTrace;
  /** Exports what is queued (bounded in time: a collector that does not answer is given up) and stops. */
  shutdown(): Promise<void>;
}

/** W3C Trace Context: version 00, a 32-hex trace id and a 16-hex parent id (not all zeros), 2-hex flags. */
const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;
/** `tracestate` is kept only when it is of a sane size (the W3C limit is 32 members of at most 256 characters). */
const MAX_TRACESTATE_LENGTH = 512;
/** W3C Trace Context: at most 32 list members, each `key=value` (a simple or a `tenant@system` key). */
const MAX_TRACESTATE_MEMBERS = 32;
const TRACESTATE_MEMBER = /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/** Whether a `tracestate` is one the W3C grammar allows (empty members between commas are): else it is not passed on. */
function validTracestate(tracestate: string): boolean {
  if (tracestate.length > MAX_TRACESTATE_LENGTH) return false;
  const members = tracestate.split(',').map((member) => member.trim()).filter((member) => member !== '');
  return members.length <= MAX_TRACESTATE_MEMBERS && members.every((member) => TRACESTATE_MEMBER.test(member));
}

/** The trace of one request: the tracer's when tracing is on; otherwise the client's trace context passed through, if it sent one. */
export function traceOf(tracer: RequestTracer | undefined, headers: IncomingHttpHeaders, identity: RequestIdentity): RequestTrace | undefined {
  return tracer ? tracer.startRequest(headers, identity) : passThroughTrace(headers);
}

/**
 * Tracing off: a valid `traceparent` from the client goes to every backend unchanged (with its `tracestate`, when that
 * is valid too), so a backend that traces joins the client's trace with the gateway invisible in it. Nothing else is
 * recorded.
 */
export function passThroughTrace(headers: IncomingHttpHeaders): RequestTrace | undefined {
  const traceparent = headers.traceparent;
  if (typeof traceparent !== 'string' || !TRACEPARENT.test(traceparent)) return undefined;
  const tracestate = headers.tracestate;
  const passed: AttemptTrace = {
    headers: typeof tracestate === 'string' && validTracestate(tracestate) ? { traceparent, tracestate } : { traceparent },
    ended: () => undefined,
  };
  return { validated: () => undefined, planned: () => undefined, attempt: () => passed, ended: () => undefined };
}
