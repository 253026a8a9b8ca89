import type { AttemptLayer } from '../../upstream/attempt-layers.js';
import type { AnswerWriter } from '../../upstream/attempt.js';

/**
 * Outermost layer: each attempt of a traced request gets its span (a connection wait, an open circuit and the
 * backend's answer all inside it), and its upstream request carries the span's `traceparent`. With tracing off, a
 * client's `traceparent` is passed through the same way (request-trace.ts). A request without a trace costs one
 * property read.
 */
export function traceAttempts(): AttemptLayer {
  return (next) =>
    function tracingLayer(attempt, response) {
      const trace = attempt.context.trace;
      if (!trace) return next(attempt, response);
      const span = trace.attempt(attempt.deployment, attempt.backend);
      const traced = { ...attempt, headers: { ...attempt.headers, ...span.headers } };
      const writer = span.answered && !attempt.stream ? observingEnd(response, span.answered) : response;
      return next(traced, writer).then(
        (result) => {
          span.ended(result, attempt.context.outcome);
          return result;
        },
        (error: unknown) => {
          span.ended(error instanceof Error ? error : new Error(String(error)), attempt.context.outcome);
          throw error;
        },
      );
    };
}

/**
 * `response`, with the body a non-streamed answer ends with handed to `observe` first. A Proxy rather than a copy:
 * the writer may be the client's ServerResponse or an ingress adapter, and every other member must stay theirs.
 */
function observingEnd(response: AnswerWriter, observe: (body: Buffer) => void): AnswerWriter {
  return new Proxy(response, {
    get(target, property) {
      if (property === 'end') {
        return (chunk?: string | Buffer) => {
          if (chunk !== undefined) observe(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
          return target.end(chunk);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
