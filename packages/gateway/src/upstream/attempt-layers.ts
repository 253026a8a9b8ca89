import { GatewayError, type StatsStore } from '@dosrouter/shared';
import type { BreakerBoard } from '../cluster/breaker-board.js';
import type { InFlightCounts } from '../cluster/in-flight-counts.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import { runAttempt, type AnswerWriter, type AttemptInput, type AttemptResult } from './attempt.js';

/** Sends one attempt and relays its answer: the innermost dispatch is `runAttempt`; layers wrap it. */
export type Dispatch = (attempt: AttemptInput, response: AnswerWriter) => Promise<AttemptResult>;

/** A concern around every attempt (breaker, in-flight count, statistics), in the style of undici's interceptors. */
export type AttemptLayer = (next: Dispatch) => Dispatch;

/** The layers, outermost first, around `runAttempt`: built once per gateway, not per request. */
export function composeAttempt(layers: readonly AttemptLayer[], innermost: Dispatch = runAttempt): Dispatch {
  return layers.reduceRight<Dispatch>((next, layer) => layer(next), innermost);
}

/**
 * Holds an attempt to a backend that `maxConnections` caps until one of its connections is free, at most
 * `timeouts.connectionWaitMs`. Outermost: a wait that runs out is saturation, not a backend fault, so it never
 * reaches the breaker, the rolling stats or the upstream error counts; the attempt fails over (503
 * `upstream_saturated`). A client that leaves while waiting frees its place at once.
 */
export function gateConnections(metrics: GatewayMetrics): AttemptLayer {
  return (next) =>
    async function connectionGateLayer(attempt, response) {
      const { gate, name, timeouts } = attempt.backend;
      if (!gate) return next(attempt, response);
      const entry = await gate.acquire(timeouts.connectionWaitMs, attempt.controller.signal);
      if (entry.waitedMs > 0 || !entry.ok) metrics.recordConnectionWait(name, entry.ok ? 'acquired' : entry.reason, entry.waitedMs);
      attempt.context.connectionWaited(entry.waitedMs);
      if (!entry.ok) {
        if (entry.reason === 'aborted') {
          attempt.context.failed('client_closed');
          return { ok: false, error: new GatewayError('The client closed the connection.', { status: 499, code: 'client_closed', retryable: false }) };
        }
        return { ok: false, error: upstreamSaturated(name, gate.limit, timeouts.connectionWaitMs) };
      }
      try {
        return await next(attempt, response);
      } finally {
        gate.release();
      }
    };
}

function upstreamSaturated(backend: string, limit: number, waitMs: number): GatewayError {
  return new GatewayError(`All ${limit} connections to the backend ${backend} stayed busy for ${waitMs} ms (its maxConnections); try again shortly.`, {
    status: 503,
    code: 'upstream_saturated',
    type: 'server_error',
    retryable: true,
    retryAfterSeconds: 1,
  });
}

/** Counts the attempt in flight on its deployment for as long as it runs (least-busy routing, the cluster's counts). */
export function countInFlight(inFlight: InFlightCounts): AttemptLayer {
  return (next) =>
    async function inFlightLayer(attempt, response) {
      inFlight.increment(attempt.deployment.id);
      try {
        return await next(attempt, response);
      } finally {
        inFlight.decrement(attempt.deployment.id);
      }
    };
}

/**
 * Runs the attempt through its deployment's circuit breaker: an open circuit answers `circuit_open` at once, and
 * only the attempt's result is judged (BreakerBoard.run), so nothing the gateway's own code throws moves a circuit.
 */
export function guardWithBreaker(breakers: BreakerBoard): AttemptLayer {
  return (next) =>
    function breakerLayer(attempt, response) {
      return breakers.run(attempt.deployment.id, () => next(attempt, response));
    };
}

/**
 * Counts the backend's errors by code, and holds a deployment whose backend answered 429 with a retry-after open
 * for exactly that long, on every replica. A stream that broke after its first byte counts its error too.
 */
export function recordUpstreamErrors(metrics: GatewayMetrics, breakers: BreakerBoard): AttemptLayer {
  return (next) =>
    async function upstreamErrorsLayer(attempt, response) {
      const result = await next(attempt, response);
      const deploymentId = attempt.deployment.id;
      if (result.ok) {
        const { errorCode } = attempt.context.outcome;
        if (errorCode && errorCode !== 'client_closed') metrics.recordUpstreamError(deploymentId, errorCode);
      } else if (result.error.code !== 'circuit_open' && result.error.code !== 'client_closed') {
        metrics.recordUpstreamError(deploymentId, result.error.code);
        const retryAfterMs = retryAfterMsOf(result.error);
        if (result.error.status === 429 && retryAfterMs) breakers.openFor(deploymentId, retryAfterMs, 'rate limited by the backend');
      }
      return result;
    };
}

/** Adds the attempt to its deployment's rolling stats (latency, TTFT, errors, tokens/s), unless it says nothing of the backend. */
export function recordRollingStats(stats: StatsStore): AttemptLayer {
  return (next) =>
    async function rollingStatsLayer(attempt, response) {
      const result = await next(attempt, response);
      const outcome = attempt.context.outcome;
      if (outcome.errorCode === 'client_closed' || (!result.ok && result.error.code === 'circuit_open')) return result;
      const started = outcome.upstreamStartedAt ?? 0;
      const ended = outcome.upstreamEndedAt ?? started;
      const firstToken = outcome.stream ? outcome.firstTokenAt : undefined;
      stats.record(attempt.deployment.id, {
        ok: result.ok && outcome.errorCode === undefined,
        latencyMs: ended - started,
        ttftMs: firstToken === undefined ? undefined : firstToken - started,
        outputTokens: outcome.usage?.completionTokens,
        generationMs: firstToken === undefined ? undefined : ended - firstToken,
      });
      return result;
    };
}

/** A backend's retry-after in milliseconds: exact when it sent `retry-after-ms`, else its seconds. */
export function retryAfterMsOf(error: { readonly retryAfterMs?: number; readonly retryAfterSeconds?: number }): number | undefined {
  return error.retryAfterMs ?? (error.retryAfterSeconds === undefined ? undefined : error.retryAfterSeconds * 1000);
}
