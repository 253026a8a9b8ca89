import { z } from 'zod';

/** Names of models, aliases and groups, as clients send them in `model`. */
const modelName = z.string().min(1);
const strategyName = z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'strategy names are lower-case words joined by hyphens');
const tierName = z.enum(['SIMPLE', 'MEDIUM', 'COMPLEX', 'REASONING']);

/**
 * How one request is retried and failed over. An attempt is one call to one deployment; a request makes at most
 * `attempts` of them, across its deployments and fallback models.
 */
const retryFields = {
  /** Calls to backends one request may make, the first included. */
  attempts: z.number().int().min(1).max(20).default(3),
  /**
   * Wait before calling a deployment that already failed once in this request: `initialBackoffMs` doubled on each
   * retry, capped at `maxBackoffMs`, with jitter (between half and all of it). Moving on to a deployment not yet
   * tried does not wait.
   */
  initialBackoffMs: z.number().int().nonnegative().default(250),
  maxBackoffMs: z.number().int().nonnegative().default(4_000),
  /**
   * No attempt starts later than this after the request arrived, and a backend's `retry-after` that ends later
   * is not waited for. An attempt under way runs to its own timeouts; a stream already answering is not cut.
   * Must exceed `upstream.timeouts.firstTokenMs`, so that a backend that never starts is failed over.
   */
  deadlineMs: z.number().int().min(100).default(90_000),
  /**
   * `model-first` (default): the requested model's deployments, then their retries (after backoff, or the backend's
   * retry-after), before the fallback chain; one attempt is kept for the fallbacks. `spread`: every planned
   * deployment once, fallbacks included, before any retry.
   */
  order: z.enum(['model-first', 'spread']).default('model-first'),
  /** The longest backend `retry-after` worth waiting for; a deployment that asks for longer is not retried. */
  maxRetryAfterMs: z.number().int().nonnegative().default(10_000),
};
export const retryPolicySchema = z.strictObject(retryFields);
export type RetryPolicy = z.infer<typeof retryPolicySchema>;

/** A model's overrides of `routing.retry`: only the fields it sets (no defaults, which would mask the global ones). */
const retryOverridesSchema = z.strictObject({
  attempts: retryFields.attempts.removeDefault().optional(),
  initialBackoffMs: retryFields.initialBackoffMs.removeDefault().optional(),
  maxBackoffMs: retryFields.maxBackoffMs.removeDefault().optional(),
  deadlineMs: retryFields.deadlineMs.removeDefault().optional(),
  order: retryFields.order.removeDefault().optional(),
  maxRetryAfterMs: retryFields.maxRetryAfterMs.removeDefault().optional(),
});

/** A number range on the estimated prompt tokens. */
const tokenRangeSchema = z
  .strictObject({ min: z.number().int().nonnegative().optional(), max: z.number().int().nonnegative().optional() })
  .refine((range) => range.min !== undefined || range.max !== undefined, 'give min, max or both');

/** A regular expression as config text, checked when the config loads. */
const pattern = z.string().min(1).superRefine((source, context) => {
  try {
    new RegExp(source, 'u');
  } catch (error) {
    context.addIssue({ code: 'custom', message: `not a valid regular expression: ${(error as Error).message}` });
  }
});

/** What a request must look like for a rule to apply. Every condition given must hold; an empty match matches all. */
export const ruleMatchSchema = z
  .strictObject({
    /** The model the client asked for (after no alias resolution), one name or a list. */
    model: z.union([modelName, z.array(modelName).min(1)]).optional(),
    /** The request path, e.g. /v1/chat/completions. */
    path: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    /** Header name → regular expression its value must match. A missing header never matches. */
    headers: z.record(z.string().toLowerCase(), pattern).optional(),
    /** `metadata` field of the body: key → the exact string value it must have. */
    metadata: z.record(z.string(), z.string()).optional(),
    /** A regular expression the last user message must match (case-insensitive). */
    lastUserMessage: pattern.optional(),
    /** The prompt's estimated size in tokens (every message). */
    promptTokens: tokenRangeSchema.optional(),
  });
export type RuleMatch = z.infer<typeof ruleMatchSchema>;

/** Where a matching request goes: a model (or alias), a group, and/or a strategy. */
export const ruleRouteSchema = z
  .strictObject({
    model: modelName.optional(),
    group: modelName.optional(),
    strategy: strategyName.optional(),
  })
  .refine((route) => route.model !== undefined || route.group !== undefined || route.strategy !== undefined, 'give model, group or strategy')
  .refine((route) => route.model === undefined || route.group === undefined, 'give model or group, not both');
export type RuleRoute = z.infer<typeof ruleRouteSchema>;

export const routingRuleSchema = z.strictObject({
  /** Shown by the explain endpoint and in the access log. */
  name: z.string().min(1),
  match: ruleMatchSchema.default({}),
  route: ruleRouteSchema,
});
export type RoutingRule = z.infer<typeof routingRuleSchema>;

/** Tier → ordered model names. */
const tierListsSchema = z.partialRecord(tierName, z.array(modelName).min(1));

/** One virtual model: for each tier the models to try in order; `agenticTiers` for requests that offer tools. */
export const tierProfileSchema = z.strictObject({
  tiers: tierListsSchema.default({}),
  agenticTiers: tierListsSchema.default({}),
});
export type TierProfileConfig = z.infer<typeof tierProfileSchema>;

/**
 * Hedged requests: when a stream's first token has not come `afterMs` after the attempt started (or the rolling
 * time to first token's percentile of that deployment, from every replica's stats), the same request starts on the
 * next candidate; the first to send a token wins, the others are aborted. At most `maxExtra` extra calls.
 */
export const hedgeSchema = z
  .strictObject({
    afterMs: z.number().int().min(1).optional(),
    afterPercentile: z.enum(['p50', 'p90', 'p95', 'p99']).optional(),
    maxExtra: z.number().int().min(1).max(3).default(1),
  })
  .refine((hedge) => (hedge.afterMs === undefined) !== (hedge.afterPercentile === undefined), 'give afterMs or afterPercentile, one of them');
export type HedgeSettings = z.infer<typeof hedgeSchema>;

/** Per client-facing model: its strategy, retry policy and fallback chain. */
export const modelRoutingSchema = z
  .strictObject({
    strategy: strategyName.optional(),
    retry: retryOverridesSchema.optional(),
    /** Models tried in order once every deployment of this one failed or was filtered out. */
    fallbacks: z.array(modelName).optional(),
    /** Overrides `routing.recovery` for requests to this model. */
    recovery: z.enum(['on', 'off']).optional(),
    /** Hedged streams for this model (default: none). */
    hedge: hedgeSchema.optional(),
  });
export type ModelRouting = z.infer<typeof modelRoutingSchema>;

export const routingSchema = z
  .strictObject({
    /** The strategy of every model that sets none. */
    strategy: strategyName.default('weighted'),
    /** The retry policy of every model; a model's `retry` overrides it field by field. */
    retry: retryPolicySchema.prefault({}),
    /** Per-model settings, by the model's name. */
    models: z.record(modelName, modelRoutingSchema).default({}),
    /** Group name → models: asking for the group routes over all their deployments at once. */
    groups: z.record(modelName, z.array(modelName).min(1)).default({}),
    /** Evaluated in order before the strategy; the first that matches applies. */
    rules: z.array(routingRuleSchema).default([]),
    /** The virtual models. One left out is derived from the catalog's prices (docs/routing.md). */
    profiles: z.partialRecord(z.enum(['auto', 'eco', 'premium']), tierProfileSchema).default({}),
    /** The prompt-complexity classifier's main settings. */
    classifier: z
      .strictObject({
        defaultTier: tierName.default('MEDIUM'),
        confidenceThreshold: z.number().min(0).max(1).default(0.55),
        largeInputTokens: z.number().int().positive().default(20_000),
      })
      .prefault({}),
    /** `x-dosrouter-savings` is the cost of the same tokens on this model minus the cost of the answer. */
    savingsBaseline: modelName.optional(),
    /**
     * `on`: a chat stream (one choice) that breaks after text reached the client (cut, stall past `idleMs`, malformed
     * events) is continued by the next attempt in the same client stream (docs/routing.md#mid-stream-recovery).
     * `off`: it ends with the error event. A model's `recovery` overrides it.
     */
    recovery: z.enum(['on', 'off']).default('on'),
    /** Requests that have side effects (matched like a rule's `match`): never hedged. */
    sideEffects: z.array(ruleMatchSchema).default([]),
    /** A request with `x-session-id` keeps going to one deployment while that deployment stays healthy. */
    sessionAffinity: z.boolean().default(true),
    /**
     * Files (paths relative to the working directory) that each default-export a routing strategy: `{ name, order }`.
     * Their names can then be used like the built-in ones.
     */
    strategyModules: z.array(z.string().min(1)).default([]),
  })
  .prefault({});
export type RoutingConfig = z.infer<typeof routingSchema>;
