import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Request, Response } from 'express';
import {
  AttemptSequence,
  GatewayError,
  failureKind,
  type ApiKeyRecord,
  type Deployment,
  type GatewayConfig,
  type NextAttempt,
} from '@dosrouter/shared';
import { contextOf, type RequestContext } from '../request/request-context.js';
import type { DeploymentSaturation } from '../saturation/deployment-saturation.js';
import { PRIORITY_HEADER } from '../saturation/queue-place.js';
import type { ReplicaSaturation } from '../saturation/replica-saturation.js';
import type { SaturationSlot } from '../saturation/saturation-slot.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import {
  composeAttempt,
  countInFlight,
  gateConnections,
  guardWithBreaker,
  recordRollingStats,
  recordUpstreamErrors,
  retryAfterMsOf,
} from '../upstream/attempt-layers.js';
import type { Operation } from '../upstream/backend.js';
import type { BackendRegistry } from '../upstream/backend-registry.js';
import { rewriteBody, topLevelMembers, type TopLevelMembers } from '../upstream/raw-body.js';
import type { UsageRecorder } from '../usage/usage-recorder.js';
import type { SpendObservations } from '../usage/spend-observations.js';
import type { ProxiedRequest } from '../validation/request-fields.js';
import { AnswerPricing } from './answer-pricing.js';
import { planRequest, type PlanningDependencies } from './plan-request.js';
import { RequestLimits } from './request-limits.js';

export interface ProxyDependencies extends PlanningDependencies {
  readonly pricing: AnswerPricing;
  readonly backends: BackendRegistry;
  readonly limits: GatewayConfig['limits'];
  readonly clock: () => number;
  readonly metrics: GatewayMetrics;
  /** Absent when usage recording is off (`usage.enabled: false`). */
  readonly usage?: UsageRecorder;
  /** The replica's concurrency limit and its fair queue (`saturation`). */
  readonly saturation: ReplicaSaturation;
  /** Deployments' `maxConcurrent` and their fair queues. */
  readonly deploymentSaturation: DeploymentSaturation;
  /** Cluster mode: the spend figures admissions return, kept for soft budgets and the fallback limiter. */
  readonly spendObservations?: SpendObservations;
}

/** A retry-after wait ends this much after the backend's time, so that the circuit it opened is half-open by then. */
const RETRY_AFTER_MARGIN_MS = 50;

/**
 * The handler for one forwarded operation: validate → plan the route (a pure function of the request and the local
 * snapshot: rules, virtual models, filters, strategy, fallbacks) → admit (one Redis round trip, only when limits
 * apply) → attempts, driven by the plan's retry policy, until one answers. Nothing reaches the client before an
 * attempt succeeds, so failover is invisible; the last failure is what the client sees when none does. Each
 * attempt runs through the layers every attempt shares (in-flight count, rolling stats, upstream error metrics,
 * circuit breaker); the request's RequestContext is told what happens.
 */
export function createProxyHandler(
  dependencies: ProxyDependencies,
  operation: Operation,
  validate: (body: Record<string, unknown>) => ProxiedRequest,
) {
  const { cluster, metrics, clock, saturation, deploymentSaturation } = dependencies;
  const dispatch = composeAttempt([
    gateConnections(metrics),
    countInFlight(cluster.inFlight),
    recordRollingStats(cluster.stats),
    recordUpstreamErrors(metrics, cluster.breakers),
    guardWithBreaker(cluster.breakers),
  ]);

  // Chained rather than awaited: a frame suspended for a stream's whole life stays on the heap (attempt-layers.ts).
  return function proxyHandler(request: Request, response: Response): Promise<void> {
    const context = contextOf(response);
    context.handlerStarted();
    return forward(request, response, context).finally(() => context.handlerFinished());
  };

  async function forward(request: Request, response: Response, context: RequestContext): Promise<void> {
    const proxied = validate(request.body as Record<string, unknown>);
    const apiKey = response.locals.apiKey as ApiKeyRecord | undefined;
    context.validated(operation, proxied, apiKey?.id);
    const { plan, unavailable } = planRequest(dependencies, operation, request.route.path as string, proxied, request, response);
    context.planned(plan);
    if (plan.attempts.length === 0) throw unavailable();

    let controller: AbortController | undefined;
    let limits: RequestLimits | undefined;
    let slot: SaturationSlot | undefined;
    let deploymentSlot: SaturationSlot | undefined;
    const clientGone = new AbortController();
    // One listener per request, in place before the first await: when the response is over, release the slots and
    // the limits; if it ended early, the client went away, so abort what is under way (a wait, or the attempt).
    response.once('close', () => {
      slot?.release();
      deploymentSlot?.release();
      limits?.release(context.outcome.usage?.totalTokens, response.statusCode < 400);
      if (response.writableFinished) return;
      clientGone.abort();
      controller?.abort(new Error('client closed the connection'));
    });
    // The replica's own limit: past it the request waits its fair turn (saturation), before any Redis round trip.
    const place = saturation.placeOf(apiKey, request.headers[PRIORITY_HEADER], request.socket.remoteAddress);
    const acquired = saturation.acquire(place, clientGone.signal);
    slot = acquired instanceof Promise ? await acquired : acquired;
    if (!slot || clientGone.signal.aborted) {
      slot?.release();
      context.failed('client_closed');
      return;
    }
    context.queued(slot.waitedMs);

    limits = new RequestLimits(
      cluster.limiter,
      metrics,
      // Leases are held under an id of the gateway's own: clients may send one x-request-id on every request, and
      // concurrent requests sharing a lease would slip past a concurrency limit.
      randomUUID(),
      dependencies.limits,
      request.headers.authorization,
      Number(response.locals.bodyBytes) || 0,
      proxied.body,
      apiKey,
      dependencies.spendObservations,
      // Without usage records nothing adds to a key's spend: its budget is not checked either.
      dependencies.usage !== undefined,
    );
    const start = await limits.admit(plan.attempts, plan.target);
    context.admitted(limits.headers);
    // Slots taken while the client was leaving: the listener has already run, so release them here.
    const leftDuringAdmission = (): boolean => {
      if (!clientGone.signal.aborted) return false;
      limits?.release(undefined, false);
      return true;
    };
    if (leftDuringAdmission()) {
      context.failed('client_closed');
      return;
    }

    const upstreamBody = upstreamBodies(proxied, response.locals.rawBody as Buffer | undefined);
    const sequence = new AttemptSequence(plan.attempts, plan.retry, context.outcome.receivedAt, dependencies.random);
    for (const skipped of plan.attempts.slice(0, start)) sequence.skipped(skipped);
    const admitted = new Set<string>(start < plan.attempts.length ? [plan.attempts[start]!.id] : []);
    let lastError: GatewayError | undefined;
    // Deployments skipped at their `maxConcurrent`, best first. When every deployment with room has been tried, the
    // request waits once for a slot on any of them (the first to free wins), within what is left of its deadline.
    const saturated: Deployment[] = [];
    let waited = false;
    const waitForRoom = async (): Promise<(NextAttempt & { slot: SaturationSlot }) | undefined> => {
      if (waited || saturated.length === 0 || (lastError && failureKind(lastError) === 'final') || sequence.attempts >= plan.retry.attempts) return undefined;
      waited = true;
      const deadlineMs = Math.min(deploymentSaturation.queueTimeoutMs - slot!.waitedMs, context.outcome.receivedAt + plan.retry.deadlineMs - clock());
      const won = await deploymentSaturation.acquire(saturated, place, deadlineMs, clientGone.signal);
      if (!won || clientGone.signal.aborted) {
        won?.slot.release();
        return undefined;
      }
      context.queued(slot!.waitedMs + won.slot.waitedMs);
      return { deployment: won.deployment, delayMs: 0, slot: won.slot };
    };
    for (
      let next: (NextAttempt & { slot?: SaturationSlot }) | undefined = sequence.next(clock()) ?? (await waitForRoom());
      next && !clientGone.signal.aborted;
      next = sequence.next(clock()) ?? (await waitForRoom())
    ) {
      const { deployment, delayMs } = next;
      if (delayMs > 0 && !(await sleep(delayMs, true, { signal: clientGone.signal }).catch(() => false))) break;
      // A full deployment is a reason to go elsewhere, never a failure: it is skipped, not counted.
      const taken = next.slot ?? deploymentSaturation.tryAcquire(deployment);
      deploymentSlot = taken instanceof Promise ? await taken : taken;
      if (!deploymentSlot) {
        sequence.skipped(deployment);
        if (!saturated.includes(deployment)) saturated.push(deployment);
        continue;
      }
      if (clientGone.signal.aborted) {
        // Taken while the client was leaving: the listener has already run.
        deploymentSlot.release();
        break;
      }
      if (!admitted.has(deployment.id)) {
        const room = await limits.admitFailover(deployment);
        if (leftDuringAdmission()) break;
        if (!room) {
          deploymentSlot.release();
          sequence.skipped(deployment);
          continue;
        }
        admitted.add(deployment.id);
      }
      controller = new AbortController();
      const backend = dependencies.backends.get(deployment.backend);
      const askForUsage = proxied.stream && !proxied.includeUsage && backend.requestStreamUsage;
      // Built before the attempt, outside every layer: nothing our own code does can count against a circuit.
      const body = upstreamBody(deployment, askForUsage);
      context.attemptStarted(deployment);
      const result = await dispatch(
        { backend, deployment, operation, body, stream: proxied.stream, dropUsageOnlyChunk: askForUsage, controller, context },
        response,
      );
      deploymentSlot.release();
      if (result.ok) {
        // A stream that broke after its first byte did not commit an answer: its cost is settled here.
        if (!context.costSettled) context.settleCost();
        sequence.succeeded(deployment);
        return;
      }
      lastError = result.error;
      const retryAfterMs = retryAfterMsOf(result.error);
      sequence.failed(deployment, failureKind(result.error), clock(), retryAfterMs === undefined ? undefined : retryAfterMs + RETRY_AFTER_MARGIN_MS);
    }
    if (clientGone.signal.aborted) {
      context.failed('client_closed');
      return;
    }
    if (lastError) Object.assign(lastError.headers, limits.headers);
    throw lastError ?? new GatewayError(`No deployment of ${plan.target} could take the request within its limits.`, { status: 503, code: 'no_deployment_available', retryable: true, retryAfterSeconds: 1 });
  }
}

/**
 * The bodies sent upstream for one request: the client's, with the backend's model id and, if asked for, stream
 * usage. Made from the client's own bytes (`rewriteBody`: only the `model` and `stream_options` values change), so
 * that a large body is not serialised again on the event loop for every attempt; re-serialised from the parsed body
 * only when the bytes are not valid UTF-8 (JSON.parse read them with replacement characters).
 */
function upstreamBodies(proxied: ProxiedRequest, raw: Buffer | undefined): (deployment: Deployment, askForUsage: boolean) => string | Buffer {
  const members = raw !== undefined && isUtf8(raw) ? membersOf(raw) : undefined;
  return (deployment, askForUsage) => {
    const streamOptions = askForUsage ? { ...(proxied.body.stream_options as object | undefined), include_usage: true } : undefined;
    if (raw && members && members.model.length > 0) return rewriteBody(raw, members, deployment.upstreamModel, streamOptions);
    return JSON.stringify({ ...proxied.body, model: deployment.upstreamModel, ...(streamOptions ? { stream_options: streamOptions } : {}) });
  };
}

/** The members to rewrite; undefined (re-serialise instead) if the scan disagrees with what JSON.parse accepted. */
function membersOf(raw: Buffer): TopLevelMembers | undefined {
  try {
    return topLevelMembers(raw);
  } catch {
    return undefined;
  }
}
