import { GatewayError, type StatsStore } from '@dosrouter/shared';
import type { BreakerBoard } from '../cluster/breaker-board.js';
import type { InFlightCounts } from '../cluster/in-flight-counts.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import { runAttempt, type AnswerWriter, type AttemptInput, type AttemptResult } from './attempt.js';
import type { GateEntry } from './connection-gate.js';

/** Sends one attempt and relays its answer: the innermost dispatch is `runAttempt`; layers wrap it. */
export type Dispatch = (attempt: AttemptInput, response: AnswerWriter) => Promise<AttemptResult>;

/** A concern around every attempt (breaker, in-flight count, statistics), in the style of undici's interceptors. */
export type AttemptLayer = (next: Dispatch) => Dispatch;

/**
 * The layers, outermost first, around `runAttempt`: built once per gateway, not per request. A layer that only acts
 * after the attempt chains on its promise rather than awaiting it: an async function suspended for a stream's
 * whole life keeps its frame (generator, registers, context) on the heap, about 0.6 KB per layer per open stream.
 */
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
    function connectionGateLayer(attempt, response) {
      const { gate, name, timeouts } = attempt.backend;
      if (!gate) return next(attempt, response);
      const enter = (entry: GateEntry): Promise<AttemptResult> => {
        if (entry.waitedMs > 0 || !entry.ok) metrics.recordConnectionWait(name, entry.ok ? 'acquired' : entry.reason, entry.waitedMs);
        attempt.context.connectionWaited(entry.waitedMs);
        if (!entry.ok) {
          if (entry.reason === 'aborted') {
            attempt.context.failed('client_closed');
            return Promise.resolve({ ok: false, error: new GatewayError('The client closed the connection.', { status: 499, code: 'client_closed', retryable: false }) });
          }
          return Promise.resolve({ ok: false, error: upstreamSaturated(name, gate.limit, timeouts.connectionWaitMs) });
        }
        return afterwards(() => next(attempt, response), () => gate.release());
      };
      const entry = gate.acquire(timeouts.connectionWaitMs, attempt.controller);
      return entry instanceof Promise ? entry.then(enter) : enter(entry);
    };
}

/** `run()`'s promise, with `done` called once it settles (or at once, if `run` throws): a `finally` without a frame. */
function afterwards(run: () => Promise<AttemptResult>, done: () => void): Promise<AttemptResult> {
  let running: Promise<AttemptResult>;
  try {
    running = run();
  } catch (error) {
    done();
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
  return running.finally(done);
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
    function inFlightLayer(attempt, response) {
      const deploymentId = attempt.deployment.id;
      inFlight.increment(deploymentId);
      return afterwards(() => next(attempt, response), () => inFlight.decrement(deploymentId));
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
    function upstreamErrorsLayer(attempt, response) {
      return next(attempt, response).then((result) => recordUpstreamError(attempt, result));
    };

  function recordUpstreamError(attempt: AttemptInput, result: AttemptResult): AttemptResult {
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
  }
}

/** Adds the attempt to its deployment's rolling stats (latency, TTFT, errors, tokens/s), unless it says nothing of the backend. */
export function recordRollingStats(stats: StatsStore): AttemptLayer {
  return (next) =>
    function rollingStatsLayer(attempt, response) {
      return next(attempt, response).then((result) => recordStats(attempt, result));
    };

  function recordStats(attempt: AttemptInput, result: AttemptResult): AttemptResult {
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
      queueWaitMs: (outcome.queueWaitMs ?? 0) + (outcome.connectionWaitMs ?? 0),
      costUsd: outcome.costUsd,
    });
    return result;
  }
}

/** A backend's retry-after in milliseconds: exact when it sent `retry-after-ms`, else its seconds. */
export function retryAfterMsOf(error: { readonly retryAfterMs?: number; readonly retryAfterSeconds?: number }): number | undefined {
  return error.retryAfterMs ?? (error.retryAfterSeconds === undefined ? undefined : error.retryAfterSeconds * 1000);
}
