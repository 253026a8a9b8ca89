import type { Deployment, ModelCatalog } from '../../catalog/catalog.js';
import type { HedgeSettings, RetryPolicy, RoutingConfig } from '../../config/routing-schema.js';
import { GatewayError, invalidRequest, modelNotFound } from '../../errors/gateway-error.js';
import { classifyRequest, type Classification } from '../classifier/classify.js';
import { createClassifierSettings, type ClassifierSettings } from '../classifier/classifier-options.js';
import { isVirtualModel, modelsForTier, type TierProfiles, type VirtualModel } from '../classifier/profiles.js';
import type { StrategyRegistry } from '../strategies/registry.js';
import type { RandomSource, RoutingSnapshot, Strategy } from '../types.js';
import { sessionDeployment } from './affinity.js';
import { resolveProfiles } from './derived-profiles.js';
import { isHealthFilter, judgeCandidate, type CandidateVerdict } from './filters.js';
import { readRequestFacts, type RequestFacts } from './request-facts.js';
import { compileMatch, compileRules, firstMatchingRule, type CompiledRule, type RuleSubject } from './rules.js';

/** One request as the router sees it. */
export interface RouteRequest {
  /** The upstream operation: `chat/completions`, `completions` or `embeddings`. */
  readonly operation: string;
  /** The client's request path, e.g. /v1/chat/completions (rules match on it). */
  readonly path: string;
  readonly model: string;
  /** The validated body. */
  readonly body: Record<string, unknown>;
  readonly stream: boolean;
  /** Lower-case header names, as Node gives them: `x-dosrouter-strategy`, `x-session-id` and rules read them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /**
   * The models the caller's API key may use, given a deployment's model and what the request was routed to after
   * rules (a model, group or virtual model name); absent means all.
   */
  readonly allowedModel?: (model: string, target: string) => boolean;
  /** The caller's key is past its soft budget: `auto` routes on the `eco` profile. */
  readonly economize?: boolean;
  /**
   * The deployment a continued conversation is pinned to (the one that served the Responses API's
   * `previous_response_id`): first among its model's candidates while it is one, so that its prompt cache stays warm.
   * It goes ahead of session affinity.
   */
  readonly pinnedDeployment?: string;
}

export interface RouteContext {
  readonly snapshot: RoutingSnapshot;
  readonly random: RandomSource;
}

/** Why a model is in the plan. */
export type StepSource = 'requested' | 'rule' | 'tier' | 'fallback';

/** One model (or group) of the plan, in the order they are tried. */
export interface PlannedStep {
  /** The model or group name. */
  readonly name: string;
  readonly source: StepSource;
  readonly strategy: string;
  /** Every candidate deployment, in configured order, with what the filters made of it. */
  readonly verdicts: readonly CandidateVerdict[];
  /** The candidates that passed, in the order the strategy (and session affinity) put them. */
  readonly order: readonly Deployment[];
}

export type StrategySource = 'header' | 'rule' | 'model' | 'default';

/** The whole routing decision for one request: what the gateway acts on and the explain endpoint shows. */
export interface RoutePlan {
  readonly requestedModel: string;
  /** What was routed: the model (alias resolved), the group, or the virtual model, after any rule. */
  readonly target: string;
  readonly targetKind: 'model' | 'group' | 'virtual';
  /** The rule that matched. */
  readonly rule?: string;
  readonly strategy: { readonly name: string; readonly source: StrategySource };
  /** Virtual models only: the classifier's verdict. */
  readonly classification?: Classification;
  readonly facts: RequestFacts;
  readonly steps: readonly PlannedStep[];
  /** Every deployment to try, in order, each once; retries of failed ones come from the AttemptSequence. */
  readonly attempts: readonly Deployment[];
  readonly retry: RetryPolicy;
  /** With `x-session-id` (and affinity on): the session and the deployment it sticks to. */
  readonly session?: { readonly id: string; readonly deployment?: string };
  /**
   * With a pinned deployment: which, and whether it was put first (`applied`), or was no candidate (its circuit open,
   * drained, filtered out, or not serving the model) so the request was routed as any other.
   */
  readonly pin?: { readonly deployment: string; readonly applied: boolean };
  /** Every deployment was drained (weight 0): they were kept rather than refuse the request. */
  readonly keptDrained: boolean;
  /** Streams of a model with `hedge`, unless the request matches `routing.sideEffects`: how to hedge it. */
  readonly hedge?: HedgeSettings;
  /** `auto` was routed on the `eco` profile: the key is past its soft budget. */
  readonly economized?: boolean;
}

export const STRATEGY_HEADER = 'x-dosrouter-strategy';
export const SESSION_HEADER = 'x-session-id';

/**
 * The routing pipeline, as pure functions of the request and a snapshot of cluster state: resolve the model (alias,
 * rule, group, virtual model) → candidates → filters → strategy order → the attempts, failover order included.
 * Built once per config; `plan` does no I/O and never waits.
 */
export class Router {
  readonly profiles: TierProfiles;
  private readonly rules: CompiledRule[];
  private readonly classifier: ClassifierSettings;
  /**
   * `routing.groups` and `routing.models` as Maps: they are looked up by the client's `model`, and a plain object
   * answers `constructor`, `toString` or `__proto__` with Object.prototype's members.
   */
  private readonly groups: ReadonlyMap<string, readonly string[]>;
  private readonly modelSettings: ReadonlyMap<string, RoutingConfig['models'][string]>;
  private readonly sideEffects: ReadonlyArray<(subject: RuleSubject) => boolean>;

  constructor(
    private readonly catalog: ModelCatalog,
    private readonly routing: RoutingConfig,
    private readonly registry: StrategyRegistry,
  ) {
    this.rules = compileRules(routing.rules);
    this.sideEffects = routing.sideEffects.map(compileMatch);
    this.groups = new Map(Object.entries(routing.groups));
    this.modelSettings = new Map(Object.entries(routing.models));
    this.profiles = resolveProfiles(catalog.models(), routing.profiles);
    this.classifier = createClassifierSettings(routing.classifier);
    const names = [routing.strategy, ...Object.values(routing.models).map((model) => model.strategy), ...routing.rules.map((rule) => rule.route.strategy)];
    for (const name of names) {
      if (name !== undefined && !registry.get(name)) throw new Error(`routing strategy "${name}" is not registered (known: ${registry.names().join(', ')})`);
    }
  }

  /** Throws a GatewayError for an unknown model (404) or an unknown strategy header (400). */
  plan(request: RouteRequest, context: RouteContext): RoutePlan {
    const facts = readRequestFacts(request.operation, request.body, request.stream);
    const subject = {
      model: request.model,
      path: request.path,
      headers: request.headers,
      metadata: facts.metadata,
      lastUserText: facts.lastUserText,
      promptTokens: facts.profile.estimatedPromptTokens,
    };
    const rule = firstMatchingRule(this.rules, subject);
    const requested = rule?.route.group ?? rule?.route.model ?? request.model;
    const headerStrategy = single(request.headers[STRATEGY_HEADER]);
    if (headerStrategy !== undefined && !this.registry.get(headerStrategy)) {
      throw invalidRequest(
        `Unknown routing strategy "${headerStrategy}" in ${STRATEGY_HEADER}; known: ${this.registry.names().join(', ')}.`,
        STRATEGY_HEADER,
        'invalid_strategy',
      );
    }
    const chosenStrategy = (stepName: string): { name: string; source: StrategySource } => {
      if (headerStrategy !== undefined) return { name: headerStrategy, source: 'header' };
      if (rule?.route.strategy !== undefined) return { name: rule.route.strategy, source: 'rule' };
      const own = this.modelSettings.get(stepName)?.strategy;
      return own !== undefined ? { name: own, source: 'model' } : { name: this.routing.strategy, source: 'default' };
    };

    let targetKind: RoutePlan['targetKind'];
    let target: string;
    let classification: Classification | undefined;
    let economized = false;
    const stepNames: { name: string; source: StepSource }[] = [];
    const firstSource: StepSource = rule && (rule.route.model !== undefined || rule.route.group !== undefined) ? 'rule' : 'requested';
    if (isVirtualModel(requested)) {
      if (request.operation === 'embeddings') {
        throw invalidRequest(`\`${requested}\` chooses a chat model by prompt complexity; name an embedding model instead.`, 'model', 'model_not_supported');
      }
      targetKind = 'virtual';
      target = requested;
      classification = classifyRequest(request.body, this.classifier);
      economized = request.economize === true && requested === 'auto';
      const profile: VirtualModel = economized ? 'eco' : (requested as VirtualModel);
      const models = modelsForTier(this.profiles[profile], classification.tier, classification.agentic);
      for (const name of models) stepNames.push({ name, source: 'tier' });
    } else if (this.groups.has(requested)) {
      targetKind = 'group';
      target = requested;
      stepNames.push({ name: requested, source: firstSource });
    } else {
      const group = this.catalog.resolve(requested);
      if (!group) throw modelNotFound(request.model);
      targetKind = 'model';
      target = group.name;
      stepNames.push({ name: group.name, source: firstSource });
    }
    if (targetKind !== 'virtual') {
      for (const name of this.modelSettings.get(target)?.fallbacks ?? []) stepNames.push({ name, source: 'fallback' });
    }

    const { allowedModel } = request;
    const keyAllows = allowedModel && ((model: string) => allowedModel(model, target));
    const judge = (keepDrained: boolean) =>
      uniqueSteps(stepNames, (name) => this.candidatesOf(name)).map(({ name, source, candidates }) => ({
        name,
        source,
        verdicts: candidates.map((deployment) =>
          judgeCandidate(deployment, { request: facts.profile, snapshot: context.snapshot, allowedModel: keyAllows, keepDrained }),
        ),
      }));
    let judged = judge(false);
    let keptDrained = false;
    const anyPassed = judged.some((step) => step.verdicts.some((verdict) => verdict.passed));
    if (!anyPassed && judged.some((step) => step.verdicts.some((verdict) => verdict.filter === 'weight_zero'))) {
      judged = judge(true);
      keptDrained = true;
    }

    const sessionId = this.routing.sessionAffinity ? single(request.headers[SESSION_HEADER]) : undefined;
    const { pinnedDeployment } = request;
    let sessionTarget: Deployment | undefined;
    let pinTarget: Deployment | undefined;
    const steps: PlannedStep[] = judged.map(({ name, source, verdicts }) => {
      const strategy = chosenStrategy(name);
      const passed = verdicts.filter((verdict) => verdict.passed).map((verdict) => verdict.deployment);
      let order = passed.length === 0 ? [] : this.strategy(strategy.name).order(passed, { snapshot: context.snapshot, random: context.random, request: facts.profile });
      if (pinnedDeployment !== undefined && pinTarget === undefined) {
        pinTarget = order.find((deployment) => deployment.id === pinnedDeployment);
        if (pinTarget) order = firstOf(pinTarget, order);
      }
      if (sessionId !== undefined && sessionTarget === undefined && pinTarget === undefined && order.length > 0) {
        sessionTarget = sessionDeployment(sessionId, order);
        if (sessionTarget) order = firstOf(sessionTarget, order);
      }
      return { name, source, strategy: strategy.name, verdicts, order };
    });

    const ownHedge = request.stream ? this.modelSettings.get(target)?.hedge : undefined;
    const hedge = ownHedge && !this.sideEffects.some((matches) => matches(subject)) ? ownHedge : undefined;
    const seen = new Set<string>();
    const attempts: Deployment[] = [];
    for (const step of steps) {
      for (const deployment of step.order) {
        if (seen.has(deployment.id)) continue;
        seen.add(deployment.id);
        attempts.push(deployment);
      }
    }
    return {
      requestedModel: request.model,
      target,
      targetKind,
      ...(rule ? { rule: rule.name } : {}),
      strategy: chosenStrategy(target),
      ...(classification ? { classification } : {}),
      facts,
      steps,
      attempts,
      retry: { ...this.routing.retry, ...this.modelSettings.get(target)?.retry },
      ...(sessionId !== undefined ? { session: { id: sessionId, ...(sessionTarget ? { deployment: sessionTarget.id } : {}) } } : {}),
      ...(pinnedDeployment !== undefined ? { pin: { deployment: pinnedDeployment, applied: pinTarget !== undefined } } : {}),
      keptDrained,
      ...(economized ? { economized } : {}),
      ...(hedge ? { hedge } : {}),
    };
  }

  /**
   * The error for a plan with no attempts: why no deployment can take the request. `retryAfterMs` tells how long a
   * deployment's open circuit stays open, for the 503's retry-after.
   */
  unavailableError(plan: RoutePlan, retryAfterMs?: (deploymentId: string) => number | undefined): GatewayError {
    const refused = plan.steps.flatMap((step) => step.verdicts.filter((verdict) => !verdict.passed));
    // Deployments the key may not use are never named to the caller: the 403 when nothing else was considered,
    // else the reasons of the deployments it may use.
    const rejections = refused.filter((verdict) => verdict.filter !== 'key_models');
    const summary = summarize(rejections);
    if (refused.length > 0 && rejections.length === 0) {
      return new GatewayError(`Your API key may not use the model \`${plan.requestedModel}\`.`, {
        status: 403,
        code: 'model_not_allowed',
        param: 'model',
        type: 'permission_error',
      });
    }
    const unhealthy = rejections.filter((verdict) => isHealthFilter(verdict.filter));
    if (unhealthy.length > 0) {
      // The soonest an open circuit turns half-open, when the caller knows it; else a second.
      const waits = unhealthy.map((verdict) => retryAfterMs?.(verdict.deployment.id)).filter((wait) => wait !== undefined);
      const allOpen = unhealthy.length === rejections.length && unhealthy.every((verdict) => verdict.filter === 'circuit_open');
      return new GatewayError(`No deployment of ${plan.target} is available right now: ${summary}.`, {
        status: 503,
        code: allOpen ? 'circuit_open' : 'no_deployment_available',
        type: 'server_error',
        retryable: true,
        retryAfterSeconds: waits.length > 0 ? Math.max(1, Math.ceil(Math.min(...waits) / 1000)) : 1,
      });
    }
    if (rejections.length > 0 && rejections.every((verdict) => verdict.filter === 'context_window' || verdict.filter === 'max_output')) {
      return new GatewayError(`This request does not fit any model ${plan.target} can use: ${summary}.`, {
        status: 400,
        code: 'context_length_exceeded',
        param: 'messages',
        type: 'invalid_request_error',
      });
    }
    return new GatewayError(`No deployment of ${plan.target} can serve this request: ${summary}.`, {
      status: 400,
      code: 'no_capable_deployment',
      param: 'model',
      type: 'invalid_request_error',
    });
  }

  private candidatesOf(name: string): readonly Deployment[] {
    const members = this.groups.get(name);
    if (members) return members.flatMap((member) => this.catalog.resolve(member)?.deployments ?? []);
    return this.catalog.resolve(name)?.deployments ?? [];
  }

  private strategy(name: string): Strategy {
    const strategy = this.registry.get(name);
    if (!strategy) throw new Error(`routing strategy "${name}" is not registered`);
    return strategy;
  }
}

/** Steps by name, each once (a fallback already in the chain is not tried twice), with their candidates. */
function uniqueSteps<T extends { name: string }>(steps: readonly T[], candidatesOf: (name: string) => readonly Deployment[]) {
  const seen = new Set<string>();
  const result: (T & { candidates: readonly Deployment[] })[] = [];
  for (const step of steps) {
    if (seen.has(step.name)) continue;
    seen.add(step.name);
    result.push({ ...step, candidates: candidatesOf(step.name) });
  }
  return result;
}

/** "a/x: lacks tools; b/x: its circuit is open", at most 5 named. */
function summarize(rejections: readonly CandidateVerdict[]): string {
  if (rejections.length === 0) return 'no deployments are configured';
  const named = rejections.slice(0, 5).map((verdict) => `${verdict.deployment.id} ${verdict.reason ?? verdict.filter}`);
  return rejections.length > 5 ? `${named.join('; ')}; and ${rejections.length - 5} more` : named.join('; ');
}

/** `order` with `first` moved to its head. */
function firstOf(first: Deployment, order: readonly Deployment[]): Deployment[] {
  return [first, ...order.filter((deployment) => deployment !== first)];
}

/** A header's first value, trimmed; blank counts as absent. */
function single(value: string | string[] | undefined): string | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  return text === undefined || text === '' ? undefined : text;
}
