import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Request, Response } from 'express';
import {
  AttemptSequence,
  GatewayError,
  failureKind,
  flattened,
  type ApiKeyRecord,
  type Deployment,
  type GatewayConfig,
  type RoutePlan,
  type NextAttempt,
} from '@dosrouter/shared';
import type { BreakerBoard } from '../cluster/breaker-board.js';
import { clientCredential } from '../auth/authenticate.js';
import { contextOf, type RequestContext } from '../request/request-context.js';
import type { DeploymentSaturation } from '../saturation/deployment-saturation.js';
import type { KeyConcurrency } from '../saturation/key-concurrency.js';
import { PRIORITY_HEADER } from '../saturation/queue-place.js';
import type { ReplicaSaturation } from '../saturation/replica-saturation.js';
import type { SaturationSlot } from '../saturation/saturation-slot.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import { traceAttempts } from '../telemetry/tracing/trace-attempts.js';
import {
  composeAttempt,
  countInFlight,
  gateConnections,
  guardWithBreaker,
  recordRollingStats,
  recordUpstreamErrors,
  retryAfterMsOf,
} from '../upstream/attempt-layers.js';
import { refusedPrefill } from '../recovery/continuation-request.js';
import { StreamRecovery } from '../recovery/stream-recovery.js';
import type { AttemptResult } from '../upstream/attempt.js';
import { endWithErrorEvent } from '../upstream/stream-relay.js';
import type { Backend, Operation } from '../upstream/backend.js';
import { AttemptController } from '../upstream/upstream-request.js';
import type { UsageRecorder } from '../usage/usage-recorder.js';
import type { SpendObservations } from '../usage/spend-observations.js';
import type { ProxiedRequest } from '../validation/request-fields.js';
import type { ResponseCache } from '../cache/response-cache.js';
import { ClientGone } from './client-gone.js';
import { runHedgeRace } from './hedge-race.js';
import type { AttemptShape, AttemptShaper, Ingress } from './ingress/ingress.js';
import { openAiIngress } from './ingress/openai-ingress.js';
import { planRequest, type PlanningDependencies } from './plan-request.js';
import { RequestLimits } from './request-limits.js';

/** What every request shares for the process's life; what the config decides comes from the request's ConfigSnapshot. */
export interface ProxyDependencies extends PlanningDependencies {
  readonly clock: () => number;
  readonly metrics: GatewayMetrics;
  /** Absent when usage recording is off (`usage.enabled: false`). */
  readonly usage?: UsageRecorder;
  /** The replica's concurrency limit and its fair queue (`saturation`). */
  readonly saturation: ReplicaSaturation;
  /** Deployments' `maxConcurrent` and their fair queues. */
  readonly deploymentSaturation: DeploymentSaturation;
  /** Where a request past its key's concurrency waits for a slot of its key; absent: refused at once. */
  readonly keyConcurrency?: KeyConcurrency;
  /** Cluster mode: the spend figures admissions return, kept for soft budgets and the fallback limiter. */
  readonly spendObservations?: SpendObservations;
  /** `cache.enabled`: the response cache. Absent, nothing of it is on the request path. */
  readonly responseCache?: ResponseCache;
}

/** One attempt's backend and its shape for that backend's protocol (looked up once, used to make and send it). */
interface PlannedAttempt {
  readonly backend: Backend;
  readonly shape: AttemptShape;
}

/** A retry-after wait ends this much after the backend's time, so that the circuit it opened is half-open by then. */
const RETRY_AFTER_MARGIN_MS = 50;
/** Most of a stream kept (by reference) for continuing it after a break; a longer one ends with the error event. */
const RECOVERY_MAX_BYTES = 1024 * 1024;

/**
 * The handler for one forwarded operation: validate → plan the route (a pure function of the request and the local
 * snapshot: rules, virtual models, filters, strategy, fallbacks) → admit (one Redis round trip, only when limits
 * apply) → attempts, driven by the plan's retry policy, until one answers. Nothing reaches the client before an
 * attempt succeeds, so failover is invisible; the last failure is what the client sees when none does. Each
 * attempt runs through the layers every attempt shares (its trace span, connection gate, in-flight count, rolling
 * stats, upstream error metrics, circuit breaker); the request's RequestContext is told what happens. `operation` is what routing and usage
 * estimates see; the ingress adapter makes each attempt for its deployment's backend kind (default: OpenAI's API
 * passed through); `routePath` is the path rules match (the route's own: /v1/messages for Anthropic's API).
 */
export function createProxyHandler(
  dependencies: ProxyDependencies,
  operation: Operation,
  validate: (body: Record<string, unknown>) => ProxiedRequest,
  ingress?: Ingress,
  // The path routing rules see: the route's own, which is also how the request reached this handler.
  routePath = `/v1/${operation}`,
) {
  const shaperOf = ingress ?? openAiIngress(operation);
  // Mid-stream recovery continues OpenAI streams written to the client as they come; not a translated ingress's.
  const recoverable = ingress === undefined;
  const { cluster, metrics, clock, saturation, deploymentSaturation } = dependencies;
  const dispatch = composeAttempt([
    traceAttempts(),
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
    // The config the request was accepted on: its routing, limits and backends, whatever a reload does meanwhile.
    const running = context.config;
    const { plan, snapshot, unavailable } = planRequest(dependencies, running, operation, routePath, proxied, request, response);
    context.planned(plan);
    // The response cache, when on for this request: a hit is served before admission or after it (cache.hitsCountAgainstRateLimit).
    const resumable = recoverable && streamsOneChoice(operation, proxied);
    const cache = dependencies.responseCache?.open({ headers: request.headers, response, context, proxied, plan, operation, route: routePath, ingress: shaperOf, apiKey, credential: clientCredential(request.headers), resumable });
    if (cache && plan.attempts.length === 0) {
      // A model the key may not use is refused before any hit: an answer stored for another key is not its to read.
      const refusal = unavailable();
      if (refusal.code === 'model_not_allowed') throw refusal;
    }
    if (cache && (await cache.serve('planned'))) return;
    // The requested model's only deployment, held by a backend's 429: waited for when the wait is worth it and fits the
    // request's deadline, else the client is told the circuit is open (unavailable) as for any other.
    const rateLimited = rateLimitedRequestedDeployment(plan, cluster.breakers);
    const waitable = Math.min(plan.retry.maxRetryAfterMs, context.outcome.receivedAt + plan.retry.deadlineMs - clock() - RETRY_AFTER_MARGIN_MS);
    const heldByRateLimit = rateLimited && rateLimited.waitMs <= waitable ? rateLimited : undefined;
    if (plan.attempts.length === 0 && !heldByRateLimit) throw unavailable();
    // What admission and the attempts start from: the plan's candidates, else the held deployment alone.
    const candidates = plan.attempts.length === 0 && heldByRateLimit ? [heldByRateLimit.deployment] : plan.attempts;

    /** The attempts under way (several while hedged attempts race). */
    const controllers = new Set<AbortController>();
    let limits: RequestLimits | undefined;
    let slot: SaturationSlot | undefined;
    let deploymentSlot: SaturationSlot | undefined;
    const clientGone = new ClientGone();
    // One listener per request, in place before the first await: when the response is over, release the slots and
    // the limits; if it ended early, the client went away, so abort what is under way (a wait, or the attempt).
    response.once('close', () => {
      slot?.release();
      deploymentSlot?.release();
      limits?.release(context.outcome.usage?.totalTokens, response.statusCode < 400);
      if (response.writableFinished) return;
      clientGone.abort();
      for (const controller of controllers) controller.abort(new Error('client closed the connection'));
    });
    // The replica's own limit: past it the request waits its fair turn (saturation), before any Redis round trip.
    const place = saturation.placeOf(apiKey, request.headers[PRIORITY_HEADER], request.socket.remoteAddress);
    const acquired = saturation.acquire(place, clientGone);
    slot = acquired instanceof Promise ? await acquired : acquired;
    if (!slot || clientGone.aborted) {
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
      flattened(randomUUID()),
      running.config.limits,
      clientCredential(request.headers),
      Number(response.locals.bodyBytes) || 0,
      proxied.body,
      apiKey,
      dependencies.spendObservations,
      // Without usage records nothing adds to a key's spend: its budget is not checked either.
      dependencies.usage !== undefined,
      dependencies.keyConcurrency,
    );
    // Past the key's concurrency the request waits for its key, within what the replica queue left of the deadline.
    const admission = limits.admit(candidates, plan.target, place, clientGone, deploymentSaturation.queueTimeoutMs - slot.waitedMs);
    const start = typeof admission === 'number' ? admission : await admission;
    context.admitted(limits.headers);
    if (limits.queuedMs > 0) context.queued(slot.waitedMs + limits.queuedMs);
    // Slots taken while the client was leaving: the listener has already run, so release them here.
    const leftDuringAdmission = (): boolean => {
      if (!clientGone.aborted) return false;
      limits?.release(undefined, false);
      return true;
    };
    if (leftDuringAdmission()) {
      context.failed('client_closed');
      return;
    }
    if (cache && (await cache.serve('admitted'))) return;

    let shapeAttempt: AttemptShaper | undefined = shaperOf(proxied, response.locals.rawBody as Buffer | undefined, request.headers);
    // The client's bytes are the shaper's now. Once the answer reaches the client no attempt is shaped from them again
    // (a continuation is made from the parsed body): an open stream does not keep them.
    response.locals.rawBody = undefined;
    context.onAnswerStarted(() => {
      shapeAttempt = undefined;
    });
    const sequence = new AttemptSequence(plan.attempts, plan.retry, context.outcome.receivedAt, dependencies.random, plan.steps[0]?.order.length);
    for (const skipped of plan.attempts.slice(0, start)) sequence.skipped(skipped);
    if (heldByRateLimit) {
      sequence.waitFor(heldByRateLimit.deployment, clock() + heldByRateLimit.waitMs + RETRY_AFTER_MARGIN_MS);
    }
    const admitted = new Set<string>(start < candidates.length ? [candidates[start]!.id] : []);
    // A follower whose shared stream broke continues it with a request of its own: a new answer, relayed from the
    // point where it has repeated the text the client already has (decision 0019).
    const takenOver = cache?.takenOver;
    const recovery = takenOver
      ? StreamRecovery.resuming(proxied.body, proxied.includeUsage, takenOver.delivered, takenOver.transcript)
      : recoverable
        ? recoveryFor(running.config.routing, operation, plan.target, proxied)
        : undefined;
    let lastError: GatewayError | undefined;
    // Deployments skipped at their `maxConcurrent`, best first. When every deployment with room has been tried, the
    // request waits once for a slot on any of them (the first to free wins), within what is left of its deadline.
    const saturated: Deployment[] = [];
    let waited = false;
    const waitForRoom = async (): Promise<(NextAttempt & { slot: SaturationSlot }) | undefined> => {
      if (waited || saturated.length === 0 || (lastError && failureKind(lastError) === 'final') || sequence.attempts >= plan.retry.attempts) return undefined;
      waited = true;
      const deadlineMs = Math.min(deploymentSaturation.queueTimeoutMs - slot!.waitedMs - limits!.queuedMs, context.outcome.receivedAt + plan.retry.deadlineMs - clock());
      const won = await deploymentSaturation.acquire(saturated, place, deadlineMs, clientGone.signal);
      if (!won || clientGone.aborted) {
        won?.slot.release();
        return undefined;
      }
      context.queued(slot!.waitedMs + limits!.queuedMs + won.slot.waitedMs);
      return { deployment: won.deployment, delayMs: 0, slot: won.slot };
    };
    for (
      let next: (NextAttempt & { slot?: SaturationSlot }) | undefined = sequence.next(clock()) ?? (await waitForRoom());
      next && !clientGone.aborted;
      next = sequence.next(clock()) ?? (await waitForRoom())
    ) {
      const { delayMs } = next;
      let { deployment } = next;
      if (delayMs > 0 && !(await sleep(delayMs, true, { signal: clientGone.signal }).catch(() => false))) break;
      // A full deployment is a reason to go elsewhere, never a failure: it is skipped, not counted.
      const taken = next.slot ?? deploymentSaturation.tryAcquire(deployment);
      deploymentSlot = taken instanceof Promise ? await taken : taken;
      if (!deploymentSlot) {
        sequence.skipped(deployment);
        if (!saturated.includes(deployment)) saturated.push(deployment);
        continue;
      }
      if (clientGone.aborted) {
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
      // A broken stream is continued: the delivered text as a prefill (or the request again, for a backend that refused one).
      const continuing = recovery?.continuing === true;
      /**
       * The attempt as `target`'s backend kind needs it, built before the attempt, outside every layer: nothing our
       * own code does can count against a circuit. A GatewayError when the request cannot be said in its protocol
       * (a continuation goes to OpenAI-compatible deployments only). A continuation's body is the recovery's own:
       * the ingress's pass-through body is not built for it.
       */
      const shapeFor = (target: Deployment): PlannedAttempt | GatewayError => {
        const backend = running.backends.get(target.backend);
        try {
          if (!continuing) {
            if (!shapeAttempt) throw new Error('an attempt shaped from the client bytes after the answer started');
            return { backend, shape: shapeAttempt(backend, target) };
          }
          if (backend.kind !== 'openai') {
            throw new GatewayError(`A broken stream is continued on OpenAI-compatible deployments only, not on ${target.id}.`, {
              status: 502,
              code: 'upstream_stream_interrupted',
              type: 'server_error',
            });
          }
          return { backend, shape: recovery!.shapeFor(target) };
        } catch (error) {
          if (error instanceof GatewayError) return error;
          throw error;
        }
      };
      /** One attempt on `target`, told to `attemptContext` (the request's, or a fork while hedged attempts race). */
      const start = (target: Deployment, { backend, shape }: PlannedAttempt, attemptContext: RequestContext, claim?: () => boolean, targetSlot?: SaturationSlot) => {
        const controller = new AttemptController();
        controllers.add(controller);
        attemptContext.attemptStarted(target);
        const result = dispatch(
          {
            backend,
            deployment: target,
            operation: shape.operation,
            body: shape.body,
            stream: proxied.stream,
            dropUsageOnlyChunk: shape.dropUsageOnlyChunk,
            dialect: shape.dialect,
            answer: shape.answer,
            headers: shape.headers,
            controller,
            context: attemptContext,
            recovery,
            continuation: continuing ? recovery!.rewriterFor(target) : undefined,
            claim,
          },
          // A miss the cache may store is teed on its way to the client (never a continuation: it is not stored).
          cache && !continuing ? cache.tap(shape.writer(response)) : shape.writer(response),
        ).finally(() => {
          controllers.delete(controller);
          targetSlot?.release();
        });
        return { controller, result };
      };
      const planned = shapeFor(deployment);
      if (planned instanceof GatewayError) {
        // The request cannot be said in this backend's protocol: another deployment may take it.
        deploymentSlot.release();
        lastError = planned;
        sequence.failed(deployment, 'failover', clock());
        continue;
      }
      let result: AttemptResult;
      // Only a request's first attempt is hedged, never a continuation.
      if (plan.hedge && sequence.attempts === 0 && !continuing) {
        const hedgeSlots = new Map<Deployment, SaturationSlot>();
        const hedgeShapes = new Map<Deployment, PlannedAttempt>([[deployment, planned]]);
        const race = await runHedgeRace({
          first: deployment,
          hedge: plan.hedge,
          snapshot,
          context,
          metrics,
          signal: clientGone.signal,
          start: (target, attemptContext, claim) => start(target, hedgeShapes.get(target)!, attemptContext, claim, hedgeSlots.get(target)),
          nextCandidate: async (busy) => {
            const candidate = sequence.next(clock(), busy);
            if (!candidate || candidate.delayMs > 0) return undefined;
            const candidateShape = shapeFor(candidate.deployment);
            if (candidateShape instanceof GatewayError) return undefined;
            // A hedge takes its deployment's slot without waiting, and is not made without one.
            const taken = deploymentSaturation.tryAcquire(candidate.deployment);
            const hedgeSlot = taken instanceof Promise ? await taken : taken;
            if (!hedgeSlot) return undefined;
            if (!admitted.has(candidate.deployment.id)) {
              if (!(await limits!.admitFailover(candidate.deployment))) {
                hedgeSlot.release();
                return undefined;
              }
              admitted.add(candidate.deployment.id);
            }
            hedgeSlots.set(candidate.deployment, hedgeSlot);
            hedgeShapes.set(candidate.deployment, candidateShape);
            return candidate.deployment;
          },
        });
        // The other racers: aborted by the winner (not retried), or failed on their own.
        for (const other of race.others) {
          context.attemptEnded(other.deployment.id, other.result.ok ? 'ok' : other.result.error.code);
          const kind = other.result.ok || other.result.error.code === 'client_closed' ? 'failover' : failureKind(other.result.error, plan.retry.maxRetryAfterMs);
          sequence.failed(other.deployment, kind, clock());
        }
        deployment = race.deployment;
        result = race.result;
      } else {
        result = await start(deployment, planned, context).result;
      }
      deploymentSlot.release();
      context.attemptEnded(deployment.id, result.ok ? 'ok' : result.error.code);
      if (result.ok) {
        // A stream that broke after its first byte did not commit an answer: its cost is settled here.
        if (!context.costSettled) context.settleCost();
        sequence.succeeded(deployment);
        return;
      }
      lastError = result.error;
      const retryAfterMs = retryAfterMsOf(result.error);
      const { status, code, retryable } = result.error;
      if (continuing && recovery!.modeFor(deployment) === 'prefill' && refusedPrefill(status, code)) {
        // It refused the prefill: asked again at once without it; the new answer must repeat the delivered text.
        recovery!.prefillRefused(deployment);
        sequence.failed(deployment, 'again', clock());
        continue;
      }
      // A broken stream's deployment is not asked to continue its own answer: another is, or a fallback.
      const kind = result.broke ? 'failover' : failureKind({ status, code, retryable, retryAfterMs }, plan.retry.maxRetryAfterMs);
      sequence.failed(deployment, kind, clock(), retryAfterMs === undefined ? undefined : retryAfterMs + RETRY_AFTER_MARGIN_MS);
    }
    if (clientGone.aborted) {
      context.failed('client_closed');
      return;
    }
    if (recovery?.continuing) {
      // The client's stream is open and has part of the answer: it ends with the error event, as an unrecovered break.
      const error = lastError ?? new GatewayError(`No deployment of ${plan.target} could continue the stream.`, { status: 502, code: 'upstream_stream_interrupted', type: 'server_error' });
      endWithErrorEvent(response, context, error);
      return;
    }
    if (lastError) Object.assign(lastError.headers, limits.headers);
    throw lastError ?? new GatewayError(`No deployment of ${plan.target} could take the request within its limits.`, { status: 503, code: 'no_deployment_available', retryable: true, retryAfterSeconds: 1 });
  }
}

/**
 * The recovery of a chat stream with one choice, unless `recovery: off` (the model's, else `routing.recovery`);
 * undefined for everything else, which ends with the error event when it breaks after its first byte.
 */
function recoveryFor(routing: GatewayConfig['routing'], operation: Operation, target: string, proxied: ProxiedRequest): StreamRecovery | undefined {
  if (!streamsOneChoice(operation, proxied)) return undefined;
  const setting = (Object.hasOwn(routing.models, target) ? routing.models[target]?.recovery : undefined) ?? routing.recovery;
  return setting === 'on' ? new StreamRecovery(proxied.body, proxied.includeUsage, RECOVERY_MAX_BYTES) : undefined;
}

/** A chat stream with one choice: what recovery (and a shared stream's takeover) can continue. */
function streamsOneChoice(operation: Operation, proxied: ProxiedRequest): boolean {
  const choices = proxied.body['n'];
  return operation === 'chat/completions' && proxied.stream && (choices === undefined || choices === null || choices === 1);
}

/** The requested model's only deployment when a backend's 429 holds its circuit open, with the time left. */
function rateLimitedRequestedDeployment(plan: RoutePlan, breakers: BreakerBoard): { deployment: Deployment; waitMs: number } | undefined {
  const verdicts = plan.steps[0]?.verdicts;
  if (verdicts?.length !== 1 || verdicts[0]!.filter !== 'circuit_open') return undefined;
  const waitMs = breakers.rateLimitedForMs(verdicts[0]!.deployment.id);
  return waitMs === undefined ? undefined : { deployment: verdicts[0]!.deployment, waitMs };
}
