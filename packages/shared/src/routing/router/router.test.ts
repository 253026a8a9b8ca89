import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../catalog/catalog.js';
import { ModelCatalog } from '../../catalog/catalog.js';
import { configSchema } from '../../config/schema.js';
import { GatewayError } from '../../errors/gateway-error.js';
import { PROTOTYPE_MEMBER_NAMES } from '../../test-support/prototype-member-names.js';
import { seededRandom } from '../../test-support/seeded-random.js';
import { StrategyRegistry } from '../strategies/registry.js';
import { EMPTY_SNAPSHOT, type RandomSource } from '../types.js';
import { Router, SESSION_HEADER, STRATEGY_HEADER, type RoutePlan, type RouteRequest } from './router.js';

/** Models declare a 4,096-token maximum output unless they say otherwise (unset, the gateway checks none). */
const backend = (name: string, models: Record<string, unknown>[]) => ({
  name,
  baseUrl: `http://${name}.test/v1`,
  models: models.map((model) => ({ maxOutputTokens: 4_096, ...model })),
});
const price = (inputPerMTok: number, outputPerMTok: number) => ({ inputPerMTok, outputPerMTok });

/**
 * Prices (input + output per million): small 0.5 (a, weight 3, tools) or 1 (b, weight 1), mid 5, thinker 10,
 * large 18 (a: tools, vision, json_schema, 200k context, 16k output) or 14.5 (c: tools). `embed` serves embeddings.
 */
const BACKENDS = [
  backend('a', [
    { name: 'small', weight: 3, pricing: price(0.1, 0.4), capabilities: ['streaming', 'tools'] },
    { name: 'large', pricing: price(3, 15), contextWindow: 200_000, maxOutputTokens: 16_384, capabilities: ['streaming', 'tools', 'vision', 'json_schema'] },
  ]),
  backend('b', [
    { name: 'small', weight: 1, pricing: price(0.2, 0.8) },
    { name: 'mid', pricing: price(1, 4), contextWindow: 32_000, capabilities: ['streaming', 'json_schema'] },
    { name: 'thinker', pricing: price(2, 8), capabilities: ['streaming', 'reasoning'] },
    { name: 'embed', pricing: price(0.02, 0), contextWindow: 8_192, capabilities: ['embeddings'] },
  ]),
  backend('c', [{ name: 'large', pricing: price(2.5, 12), capabilities: ['streaming', 'tools'] }]),
];

const ROUTING = {
  models: {
    small: { retry: { attempts: 5, deadlineMs: 5_000 } },
    large: { strategy: 'round-robin', fallbacks: ['mid', 'large', 'mid', 'thinker'] },
    mid: { strategy: 'cost' },
    pool: { fallbacks: ['small', 'thinker'] },
  },
  groups: { pool: ['small', 'mid'] },
  rules: [
    { name: 'search-team', match: { headers: { 'x-team': '^search$' } }, route: { group: 'pool' } },
    { name: 'gold-customers', match: { metadata: { tier: 'gold' } }, route: { model: 'large' } },
    { name: 'batch-jobs', match: { headers: { 'x-priority': 'batch' } }, route: { strategy: 'least-busy' } },
    { name: 'smart', match: { model: 'smart' }, route: { model: 'auto' } },
    { name: 'legacy-completions', match: { path: '/v1/completions' }, route: { model: 'fast' } },
  ],
};

function createRouter(routing: Record<string, unknown> = ROUTING, registry = new StrategyRegistry()): Router {
  const config = configSchema.parse({ backends: BACKENDS, aliases: { fast: 'small' }, routing });
  return new Router(new ModelCatalog(config), config.routing, registry);
}

const ROUTER = createRouter();

interface RouteOptions {
  readonly body?: Record<string, unknown>;
  readonly headers?: RouteRequest['headers'];
  readonly operation?: string;
  readonly path?: string;
  readonly allowedModel?: (model: string) => boolean;
  /** Deployments whose circuit is open. */
  readonly open?: readonly string[];
  /** Snapshot weights by deployment id. */
  readonly weights?: Record<string, number>;
  readonly random?: RandomSource;
  readonly router?: Router;
  readonly pinnedDeployment?: string;
}

/** The plan for a chat completion asking for `model` ("hello there" unless `body` says otherwise). */
function route(model: string, options: RouteOptions = {}): RoutePlan {
  const operation = options.operation ?? 'chat/completions';
  const request: RouteRequest = {
    operation,
    path: options.path ?? `/v1/${operation}`,
    model,
    body: { model, messages: [{ role: 'user', content: 'hello there' }], ...options.body },
    stream: false,
    headers: options.headers ?? {},
    ...(options.allowedModel ? { allowedModel: options.allowedModel } : {}),
    ...(options.pinnedDeployment !== undefined ? { pinnedDeployment: options.pinnedDeployment } : {}),
  };
  const snapshot = { ...EMPTY_SNAPSHOT, openCircuits: new Set(options.open), weights: new Map(Object.entries(options.weights ?? {})) };
  return (options.router ?? ROUTER).plan(request, { snapshot, random: options.random ?? seededRandom(1) });
}

const ids = (deployments: readonly Deployment[]): string[] => deployments.map((deployment) => deployment.id);

const stepsOf = (plan: RoutePlan) => plan.steps.map(({ name, source }) => `${name} (${source})`);

/** Every rejected candidate of the plan as `id: filter`. */
const rejections = (plan: RoutePlan): string[] =>
  plan.steps.flatMap((step) => step.verdicts.filter((verdict) => !verdict.passed).map((verdict) => `${verdict.deployment.id}: ${verdict.filter}`));

function errorOf(action: () => unknown): GatewayError {
  try {
    action();
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a GatewayError');
}

/** The error for a plan without attempts, with these circuits' remaining open times. */
const unavailable = (plan: RoutePlan, remainingMs?: Record<string, number>) =>
  ROUTER.unavailableError(plan, remainingMs && ((id) => remainingMs[id]));

/** A user message of about `tokens` tokens (4 ASCII characters each). */
const promptOf = (tokens: number) => ({ messages: [{ role: 'user', content: 'abcd'.repeat(tokens) }] });

const LONG_SYSTEM_PROMPT = [
  'You are the support assistant of a hosting company. Think step by step, analyse every request carefully,',
  'prove your claims, explain architecture and distributed systems trade-offs, and answer in JSON when asked.',
]
  .join(' ')
  .repeat(25);

const TOOL = { type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } };

describe('Router.plan: the target', () => {
  it('routes a model to all its deployments, in configured order', () => {
    const plan = route('small');
    expect(plan).toMatchObject({ requestedModel: 'small', target: 'small', targetKind: 'model', keptDrained: false });
    expect(stepsOf(plan)).toEqual(['small (requested)']);
    expect(ids(plan.steps[0]!.verdicts.map((verdict) => verdict.deployment))).toEqual(['a/small', 'b/small']);
    expect(ids(plan.attempts).sort()).toEqual(['a/small', 'b/small']);
    expect(plan).not.toHaveProperty('rule');
    expect(plan).not.toHaveProperty('classification');
  });

  it('resolves an alias to its model, keeping the name the client asked for', () => {
    const plan = route('fast');
    expect(plan).toMatchObject({ requestedModel: 'fast', target: 'small', targetKind: 'model' });
    expect(ids(plan.attempts).sort()).toEqual(['a/small', 'b/small']);
  });

  it('refuses an unknown model with 404 model_not_found', () => {
    const error = errorOf(() => route('gpt-9'));
    expect(error).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
    expect(error.message).toContain('gpt-9');
  });

  it('pools the deployments of every member model for a group', () => {
    const plan = route('pool');
    expect(plan).toMatchObject({ target: 'pool', targetKind: 'group' });
    expect(plan.steps[0]).toMatchObject({ name: 'pool', source: 'requested' });
    expect(ids(plan.steps[0]!.order).sort()).toEqual(['a/small', 'b/mid', 'b/small']);
  });

  it('appends the fallback models in configured order, each once', () => {
    const plan = route('large');
    expect(stepsOf(plan)).toEqual(['large (requested)', 'mid (fallback)', 'thinker (fallback)']);
    expect(ids(plan.attempts.slice(2))).toEqual(['b/mid', 'b/thinker']);
    expect(ids(plan.attempts.slice(0, 2)).sort()).toEqual(['a/large', 'c/large']);
  });

  it('tries a deployment once even when a fallback shares it with the group', () => {
    const plan = route('pool');
    expect(stepsOf(plan)).toEqual(['pool (requested)', 'small (fallback)', 'thinker (fallback)']);
    expect(ids(plan.attempts.slice(3))).toEqual(['b/thinker']);
    expect(new Set(ids(plan.attempts)).size).toBe(plan.attempts.length);
  });

  it('carries the request facts', () => {
    const plan = route('small', { body: { max_tokens: 64, metadata: { team: 'x' } } });
    expect(plan.facts).toMatchObject({ lastUserText: 'hello there', metadata: { team: 'x' }, profile: { maxOutputTokens: 64 } });
  });

  it('takes the default retry policy, overridden field by field by the model\'s own', () => {
    expect(route('large').retry).toEqual({ attempts: 3, initialBackoffMs: 250, maxBackoffMs: 4_000, deadlineMs: 90_000, order: 'model-first', maxRetryAfterMs: 10_000 });
    expect(route('fast').retry).toEqual({ attempts: 5, initialBackoffMs: 250, maxBackoffMs: 4_000, deadlineMs: 5_000, order: 'model-first', maxRetryAfterMs: 10_000 });
  });
});

describe('Router.plan: names that are Object.prototype members', () => {
  it('answers model_not_found for each, as for any unknown model', () => {
    for (const name of PROTOTYPE_MEMBER_NAMES) expect(errorOf(() => route(name))).toMatchObject({ status: 404, code: 'model_not_found' });
  });

  it('answers invalid_strategy for each in the strategy header', () => {
    for (const name of PROTOTYPE_MEMBER_NAMES) expect(errorOf(() => route('small', { headers: { [STRATEGY_HEADER]: name } }))).toMatchObject({ status: 400, code: 'invalid_strategy' });
  });

  it('matches no metadata rule through an inherited member', () => {
    const router = createRouter({ rules: [{ name: 'inherited', match: { metadata: { constructor: 'x' } }, route: { model: 'large' } }] });
    expect(route('small', { router, body: { metadata: {} } }).rule).toBeUndefined();
    expect(route('small', { router, body: { metadata: { constructor: 'x' } } }).rule).toBe('inherited');
  });
});

describe('Router.plan: rules', () => {
  it('routes to a group by header, case-insensitively', () => {
    const plan = route('small', { headers: { 'x-team': 'Search' } });
    expect(plan).toMatchObject({ rule: 'search-team', target: 'pool', targetKind: 'group', requestedModel: 'small' });
    expect(plan.steps[0]).toMatchObject({ name: 'pool', source: 'rule' });
  });

  it('routes to a model by metadata, with that model\'s fallbacks', () => {
    const plan = route('small', { body: { metadata: { tier: 'gold' } } });
    expect(plan).toMatchObject({ rule: 'gold-customers', target: 'large', targetKind: 'model' });
    expect(stepsOf(plan)).toEqual(['large (rule)', 'mid (fallback)', 'thinker (fallback)']);
  });

  it('resolves an alias a rule routes to', () => {
    const plan = route('mid', { operation: 'completions', body: { prompt: 'Once upon a time' } });
    expect(plan).toMatchObject({ rule: 'legacy-completions', target: 'small' });
  });

  it('routes to a virtual model', () => {
    const plan = route('smart');
    expect(plan).toMatchObject({ rule: 'smart', target: 'auto', targetKind: 'virtual' });
    expect(plan.classification?.tier).toBe('SIMPLE');
  });

  it('keeps the requested model when the rule only sets a strategy', () => {
    const plan = route('small', { headers: { 'x-priority': 'batch' } });
    expect(plan).toMatchObject({ rule: 'batch-jobs', target: 'small', strategy: { name: 'least-busy', source: 'rule' } });
    expect(plan.steps[0]?.source).toBe('requested');
  });

  it('applies the first matching rule only', () => {
    const plan = route('small', { headers: { 'x-team': 'search', 'x-priority': 'batch' }, body: { metadata: { tier: 'gold' } } });
    expect(plan).toMatchObject({ rule: 'search-team', target: 'pool', strategy: { name: 'weighted', source: 'default' } });
  });
});

describe('Router.plan: strategies', () => {
  it('uses the default strategy for a model that sets none', () => {
    expect(route('small').strategy).toEqual({ name: 'weighted', source: 'default' });
  });

  it('uses the model\'s own strategy', () => {
    expect(route('large').strategy).toEqual({ name: 'round-robin', source: 'model' });
    expect(route('mid').steps[0]?.strategy).toBe('cost');
  });

  it('orders each fallback with its own strategy', () => {
    expect(route('large').steps.map((step) => step.strategy)).toEqual(['round-robin', 'cost', 'weighted']);
  });

  it('lets a rule\'s strategy beat the model\'s, on every step', () => {
    const plan = route('large', { headers: { 'x-priority': 'batch' } });
    expect(plan.strategy).toEqual({ name: 'least-busy', source: 'rule' });
    expect(plan.steps.map((step) => step.strategy)).toEqual(['least-busy', 'least-busy', 'least-busy']);
  });

  it('lets the x-dosrouter-strategy header beat the rule and the model, on every step', () => {
    const plan = route('large', { headers: { 'x-priority': 'batch', [STRATEGY_HEADER]: 'cost' } });
    expect(plan.strategy).toEqual({ name: 'cost', source: 'header' });
    expect(plan.steps.map((step) => step.strategy)).toEqual(['cost', 'cost', 'cost']);
  });

  it('orders the deployments with the chosen strategy', () => {
    // The cost strategy puts the cheaper deployment first whatever the random draws; weighted does not.
    const firsts = (headers: RouteRequest['headers']) =>
      new Set(Array.from({ length: 40 }, (_, seed) => route('small', { headers, random: seededRandom(seed) }).attempts[0]?.id));
    expect(firsts({ [STRATEGY_HEADER]: 'cost' })).toEqual(new Set(['a/small']));
    expect(firsts({})).toEqual(new Set(['a/small', 'b/small']));
  });

  it('reads the first value of a repeated header, trimmed', () => {
    expect(route('small', { headers: { [STRATEGY_HEADER]: [' cost ', 'latency'] } }).strategy).toEqual({ name: 'cost', source: 'header' });
  });

  it('ignores an empty or blank strategy header', () => {
    expect(route('small', { headers: { [STRATEGY_HEADER]: '' } }).strategy.source).toBe('default');
    expect(route('small', { headers: { [STRATEGY_HEADER]: '   ' } }).strategy.source).toBe('default');
  });

  it('refuses an unknown strategy in the header with 400, naming the known ones', () => {
    const error = errorOf(() => route('small', { headers: { [STRATEGY_HEADER]: 'fastest' } }));
    expect(error).toMatchObject({ status: 400, code: 'invalid_strategy', param: STRATEGY_HEADER });
    expect(error.message).toContain('"fastest"');
    expect(error.message).toContain('weighted, round-robin, least-busy, latency, cost, capability');
  });

  it('routes with a strategy registered by the user', () => {
    const registry = new StrategyRegistry().register({ name: 'reverse', order: (candidates) => [...candidates].reverse() });
    const plan = route('pool', { router: createRouter(ROUTING, registry), headers: { [STRATEGY_HEADER]: 'reverse' } });
    expect(ids(plan.attempts)).toEqual(['b/mid', 'b/small', 'a/small', 'b/thinker']);
  });

  it('refuses, when built, a config naming a strategy that is not registered', () => {
    expect(() => createRouter({ strategy: 'fastest' })).toThrow('routing strategy "fastest" is not registered');
    expect(() => createRouter({ models: { mid: { strategy: 'fastest' } } })).toThrow('"fastest"');
    expect(() => createRouter({ rules: [{ name: 'r', route: { strategy: 'fastest' } }] })).toThrow('"fastest"');
  });
});

describe('Router.plan: virtual models', () => {
  const virtual = (model: string, messages: unknown[], body: Record<string, unknown> = {}) => route(model, { body: { messages, ...body } });
  const stepNames = (plan: RoutePlan) => plan.steps.map((step) => step.name);
  const GREETING = [{ role: 'user', content: 'hi' }];
  const PROOF = [{ role: 'user', content: 'Prove that there are infinitely many prime numbers, step by step.' }];

  it('classifies the request and tries its tier\'s models in order', () => {
    const plan = virtual('auto', GREETING);
    expect(plan).toMatchObject({ target: 'auto', targetKind: 'virtual', classification: { tier: 'SIMPLE', agentic: false } });
    expect(stepsOf(plan)).toEqual(['small (tier)', 'mid (tier)', 'thinker (tier)', 'large (tier)']);
    expect(ids(plan.attempts.slice(2, 4))).toEqual(['b/mid', 'b/thinker']);
  });

  it('keeps a short greeting SIMPLE under a long system prompt', () => {
    const plan = virtual('auto', [{ role: 'system', content: LONG_SYSTEM_PROMPT }, { role: 'user', content: 'thanks!' }]);
    expect(plan.classification?.tier).toBe('SIMPLE');
    expect(plan.steps[0]?.name).toBe('small');
  });

  it('sends a proof to REASONING: reasoning models first, then dearest first', () => {
    const plan = virtual('auto', PROOF);
    expect(plan.classification?.tier).toBe('REASONING');
    expect(stepNames(plan)).toEqual(['thinker', 'large', 'mid', 'small']);
  });

  it('uses the agentic lists when tools are offered: only models with tools', () => {
    const plan = virtual('auto', GREETING, { tools: [TOOL] });
    expect(plan.classification?.agentic).toBe(true);
    expect(stepNames(plan)).toEqual(['small', 'large']);
    expect(rejections(plan)).toEqual(['b/small: capabilities']);
  });

  it('orders eco cheapest first and premium dearest first', () => {
    expect(stepNames(virtual('eco', PROOF))).toEqual(['thinker', 'small', 'mid', 'large']);
    expect(stepNames(virtual('premium', GREETING))).toEqual(['large', 'thinker', 'mid', 'small']);
  });

  it('uses configured tier lists, aliases resolved', () => {
    const router = createRouter({ ...ROUTING, profiles: { eco: { tiers: { SIMPLE: ['fast', 'thinker'] } } } });
    const plan = route('eco', { router });
    expect(stepNames(plan)).toEqual(['fast', 'thinker']);
    expect(ids(plan.attempts.slice(2))).toEqual(['b/thinker']);
    expect(router.profiles.eco.tiers.SIMPLE).toEqual(['fast', 'thinker']);
  });

  it('routes each tier model with its own strategy', () => {
    const plan = virtual('premium', GREETING);
    expect(plan.strategy).toEqual({ name: 'weighted', source: 'default' });
    expect(plan.steps.map((step) => step.strategy)).toEqual(['round-robin', 'weighted', 'cost', 'weighted']);
  });

  it('refuses a virtual model for embeddings with 400', () => {
    const error = errorOf(() => route('auto', { operation: 'embeddings', body: { input: 'text' } }));
    expect(error).toMatchObject({ status: 400, code: 'model_not_supported', param: 'model' });
  });

  it('routes embeddings to an embedding model', () => {
    expect(ids(route('embed', { operation: 'embeddings', body: { input: 'text' } }).attempts)).toEqual(['b/embed']);
  });
});

describe('Router.plan: filters', () => {
  it('leaves out deployments without tools for a request with tools', () => {
    const plan = route('small', { body: { tools: [TOOL] } });
    expect(ids(plan.attempts)).toEqual(['a/small']);
    expect(plan.steps[0]?.verdicts.find((verdict) => !verdict.passed)).toMatchObject({ filter: 'capabilities', reason: 'lacks tools' });
  });

  it('leaves out deployments without vision or json_schema', () => {
    const image = { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] };
    expect(ids(route('large', { body: { messages: [image] } }).attempts)).toEqual(['a/large']);
    expect(ids(route('pool', { body: { response_format: { type: 'json_schema' } } }).attempts)).toEqual(['b/mid']);
  });

  it('leaves out deployments whose context window cannot hold the prompt and max_tokens', () => {
    // 32,000 estimated prompt tokens count as 28,800 (the estimate's 10% benefit of the doubt) + 4,000 > 32,000.
    const plan = route('large', { body: { ...promptOf(32_000), max_tokens: 4_000 } });
    expect(rejections(plan)).toEqual(['b/mid: context_window']);
    expect(ids(plan.attempts)).toContain('b/thinker');
  });

  it('leaves out deployments whose maximum output is below max_tokens', () => {
    expect(ids(route('large', { body: { max_tokens: 10_000 } }).attempts)).toEqual(['a/large']);
  });

  it('leaves out models the API key may not use', () => {
    const plan = route('large', { allowedModel: (model) => model === 'mid' });
    expect(ids(plan.attempts)).toEqual(['b/mid']);
    expect(rejections(plan)).toEqual(['a/large: key_models', 'c/large: key_models', 'b/thinker: key_models']);
  });

  it('leaves out deployments whose circuit is open', () => {
    const plan = route('small', { open: ['a/small'] });
    expect(ids(plan.attempts)).toEqual(['b/small']);
    expect(rejections(plan)).toEqual(['a/small: circuit_open']);
  });

  it('leaves out drained deployments while another can take the request', () => {
    const plan = route('small', { weights: { 'b/small': 0 } });
    expect(ids(plan.attempts)).toEqual(['a/small']);
    expect(plan.keptDrained).toBe(false);
  });

  it('goes to the fallbacks rather than keep a drained deployment', () => {
    const plan = route('large', { weights: { 'a/large': 0, 'c/large': 0 } });
    expect(ids(plan.attempts)).toEqual(['b/mid', 'b/thinker']);
    expect(plan.keptDrained).toBe(false);
  });

  it('keeps drained deployments, in configured order, when every deployment is drained', () => {
    const plan = route('small', { weights: { 'a/small': 0, 'b/small': 0 } });
    expect(plan.keptDrained).toBe(true);
    expect(ids(plan.attempts)).toEqual(['a/small', 'b/small']);
    expect(rejections(plan)).toEqual([]);
  });

  it('keeps only the drained deployments that pass every other filter', () => {
    const plan = route('small', { weights: { 'a/small': 0 }, open: ['b/small'] });
    expect(plan.keptDrained).toBe(true);
    expect(ids(plan.attempts)).toEqual(['a/small']);
    expect(rejections(plan)).toEqual(['b/small: circuit_open']);
  });
});

describe('Router.unavailableError', () => {
  const allOpen = () => route('small', { open: ['a/small', 'b/small'] });

  it('is 503 circuit_open when every circuit is open, retry-after the soonest one turns half-open', () => {
    const plan = allOpen();
    expect(plan.attempts).toEqual([]);
    const error = unavailable(plan, { 'a/small': 12_300, 'b/small': 4_001 });
    expect(error).toMatchObject({ status: 503, code: 'circuit_open', type: 'server_error', retryable: true, retryAfterSeconds: 5 });
    expect(error.message).toBe('No deployment of small is available right now: a/small its circuit is open; b/small its circuit is open.');
  });

  it('says retry after a second when the wait is unknown or shorter', () => {
    expect(unavailable(allOpen()).retryAfterSeconds).toBe(1);
    expect(unavailable(allOpen(), {}).retryAfterSeconds).toBe(1);
    expect(unavailable(allOpen(), { 'a/small': 200, 'b/small': 0 }).retryAfterSeconds).toBe(1);
  });

  it('is 503 no_deployment_available when open circuits mix with other rejections', () => {
    const plan = route('small', { body: { tools: [TOOL] }, open: ['a/small'] });
    expect(unavailable(plan, { 'a/small': 2_500 })).toMatchObject({ status: 503, code: 'no_deployment_available', retryAfterSeconds: 3 });
  });

  it('is 400 context_length_exceeded when the request fits no deployment', () => {
    const tooLong = route('mid', { body: promptOf(40_000) });
    expect(unavailable(tooLong)).toMatchObject({ status: 400, code: 'context_length_exceeded', param: 'messages', type: 'invalid_request_error' });
    const tooMuchOutput = route('small', { body: { max_tokens: 8_000 } });
    expect(rejections(tooMuchOutput)).toEqual(['a/small: max_output', 'b/small: max_output']);
    expect(unavailable(tooMuchOutput).code).toBe('context_length_exceeded');
  });

  it('is 400 no_capable_deployment when no deployment has what the request needs', () => {
    const image = { role: 'user', content: [{ type: 'input_image', image_url: 'https://example.com/a.png' }] };
    const error = unavailable(route('pool', { body: { messages: [image] } }));
    expect(error).toMatchObject({ status: 400, code: 'no_capable_deployment', param: 'model' });
    expect(error.message).toContain('a/small lacks vision');
  });

  it('is 403 model_not_allowed when the API key may use none of the models', () => {
    const plan = route('fast', { allowedModel: () => false });
    expect(unavailable(plan)).toMatchObject({ status: 403, code: 'model_not_allowed', type: 'permission_error', param: 'model' });
    expect(unavailable(plan).message).toContain('`fast`');
  });

  it('never names a deployment the key may not use, beside the ones it may', () => {
    // `large` falls back to mid and thinker; the key may use `thinker` only, which has no tools.
    const plan = route('large', { body: { tools: [TOOL] }, allowedModel: (model) => model === 'thinker' });
    expect(rejections(plan)).toEqual(['a/large: key_models', 'c/large: key_models', 'b/mid: key_models', 'b/thinker: capabilities']);
    const error = unavailable(plan);
    expect(error).toMatchObject({ status: 400, code: 'no_capable_deployment' });
    expect(error.message).toBe('No deployment of large can serve this request: b/thinker lacks tools.');
  });

  it('names at most five rejected deployments', () => {
    const router = createRouter({ groups: { everything: ['small', 'mid', 'thinker', 'large', 'embed'] } });
    const error = unavailable(route('everything', { router, body: { max_tokens: 300_000 } }));
    expect(error.code).toBe('context_length_exceeded');
    expect(error.message).toMatch(/^This request does not fit any model everything can use: (\S+ about \d+ prompt \+ 300000 output tokens exceed [^;]+; ){5}and 2 more\.$/);
  });
});

describe('Router.plan: session affinity', () => {
  const SESSIONS = Array.from({ length: 2_000 }, (_, index) => `session-${index}`);
  const sessionRoute = (session: string, options: RouteOptions = {}) => route('small', { ...options, headers: { [SESSION_HEADER]: session } });
  const firstOf = (session: string, options: RouteOptions = {}) => sessionRoute(session, options).attempts[0]?.id;

  it('puts the session\'s deployment first and says which it is', () => {
    const plan = sessionRoute('user-42');
    expect(plan.session).toEqual({ id: 'user-42', deployment: plan.attempts[0]?.id });
    expect(plan.steps[0]?.order[0]).toBe(plan.attempts[0]);
    expect(ids(plan.attempts).sort()).toEqual(['a/small', 'b/small']);
  });

  it('sends one session to the same deployment on every request, whatever the weighted draws', () => {
    const random = seededRandom(9);
    const firsts = new Set(Array.from({ length: 100 }, () => firstOf('user-42', { random })));
    expect(firsts.size).toBe(1);
  });

  it('spreads sessions over the deployments by configured weight (3:1)', () => {
    const onA = SESSIONS.filter((session) => firstOf(session) === 'a/small').length / SESSIONS.length;
    expect(onA).toBeGreaterThan(0.7);
    expect(onA).toBeLessThan(0.8);
  });

  it('moves a session while its deployment\'s circuit is open, and brings it back when it closes', () => {
    const home = firstOf('user-42')!;
    const other = home === 'a/small' ? 'b/small' : 'a/small';
    expect(sessionRoute('user-42', { open: [home] }).session).toEqual({ id: 'user-42', deployment: other });
    expect(firstOf('user-42', { open: [home] })).toBe(other);
    expect(firstOf('user-42')).toBe(home);
  });

  it('moves only the sessions of a drained deployment', () => {
    const homes = SESSIONS.map((session) => firstOf(session));
    const whileDrained = SESSIONS.map((session) => firstOf(session, { weights: { 'b/small': 0 } }));
    const moved = SESSIONS.filter((_, index) => homes[index] !== whileDrained[index]);
    expect(moved.length).toBe(homes.filter((home) => home === 'b/small').length);
    expect(new Set(whileDrained)).toEqual(new Set(['a/small']));
  });

  it('has no session without an x-session-id, or with an empty one', () => {
    expect(route('small')).not.toHaveProperty('session');
    expect(sessionRoute('')).not.toHaveProperty('session');
  });

  it('pins nothing when session affinity is off', () => {
    const router = createRouter({ ...ROUTING, sessionAffinity: false });
    const firsts = new Set(Array.from({ length: 40 }, (_, seed) => firstOf('user-42', { router, random: seededRandom(seed) })));
    expect(firsts).toEqual(new Set(['a/small', 'b/small']));
    expect(sessionRoute('user-42', { router })).not.toHaveProperty('session');
  });
});

describe('Router.plan: a conversation pinned to a deployment (previous_response_id)', () => {
  const pinnedFirsts = (pinnedDeployment: string, options: RouteOptions = {}) =>
    new Set(Array.from({ length: 40 }, (_, seed) => route('small', { ...options, pinnedDeployment, random: seededRandom(seed) }).attempts[0]?.id));

  it('puts the pinned deployment first whatever the strategy draws, and keeps the others as failover', () => {
    expect(pinnedFirsts('b/small')).toEqual(new Set(['b/small']));
    const plan = route('small', { pinnedDeployment: 'b/small' });
    expect(ids(plan.attempts)).toEqual(['b/small', 'a/small']);
    expect(plan.pin).toEqual({ deployment: 'b/small', applied: true });
  });

  it('routes as usual while the pinned deployment is no candidate (circuit open, drained), and says so', () => {
    expect(pinnedFirsts('b/small', { open: ['b/small'] })).toEqual(new Set(['a/small']));
    expect(route('small', { pinnedDeployment: 'b/small', open: ['b/small'] }).pin).toEqual({ deployment: 'b/small', applied: false });
    expect(pinnedFirsts('b/small', { weights: { 'b/small': 0 } })).toEqual(new Set(['a/small']));
  });

  it('ignores a pin to a deployment of another model', () => {
    const plan = route('small', { pinnedDeployment: 'a/large' });
    expect(plan.pin).toEqual({ deployment: 'a/large', applied: false });
    expect(ids(plan.attempts).sort()).toEqual(['a/small', 'b/small']);
  });

  it('goes ahead of session affinity, which places the request when the pin cannot', () => {
    const headers = { [SESSION_HEADER]: 'user-42' };
    const home = route('small', { headers }).attempts[0]!.id;
    const other = home === 'a/small' ? 'b/small' : 'a/small';
    const pinned = route('small', { headers, pinnedDeployment: other });
    expect(pinned.attempts[0]?.id).toBe(other);
    expect(pinned.session).toEqual({ id: 'user-42' });
    expect(route('small', { headers, pinnedDeployment: other, open: [other] }).session).toEqual({ id: 'user-42', deployment: home });
  });

  it('has no pin without a pinned deployment', () => {
    expect(route('small')).not.toHaveProperty('pin');
  });
});

describe('Router.plan: hedging', () => {
  const hedging = createRouter({
    ...ROUTING,
    models: { ...ROUTING.models, small: { hedge: { afterPercentile: 'p95' } } },
    sideEffects: [{ metadata: { writes: 'yes' } }],
  });
  const plan = (body: Record<string, unknown>, stream = true) =>
    hedging.plan(
      { operation: 'chat/completions', path: '/v1/chat/completions', model: 'small', body: { model: 'small', messages: [{ role: 'user', content: 'hi' }], ...body }, stream, headers: {} },
      { snapshot: EMPTY_SNAPSHOT, random: () => 0 },
    );

  it('hedges the streams of a model with hedge, with its settings', () => {
    expect(plan({}).hedge).toEqual({ afterPercentile: 'p95', maxExtra: 1 });
  });

  it('never hedges a request that matches sideEffects, nor a request that does not stream', () => {
    expect(plan({ metadata: { writes: 'yes' } }).hedge).toBeUndefined();
    expect(plan({}, false).hedge).toBeUndefined();
  });
});
