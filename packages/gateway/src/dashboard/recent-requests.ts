import type { RoutePlan } from '@dosrouter/shared';
import { latencyMsOf, totalsOf, ttftMsOf, type AttemptEnd, type RequestOutcome } from '../proxy/request-outcome.js';

/** Characters of the last user message a recent request keeps when `dashboard.includePrompts` is on. */
export const PROMPT_PREVIEW_CHARS = 500;

/** The routing decision as it was made for one request: what the dashboard shows when one is opened. */
export interface RecentRouting {
  readonly target: { readonly kind: string; readonly name: string };
  readonly rule: string | null;
  readonly strategy: string;
  readonly classification: { readonly tier: string; readonly confidence: number; readonly reasons: readonly string[] } | null;
  readonly steps: readonly {
    readonly model: string;
    readonly source: string;
    readonly strategy: string;
    readonly candidates: readonly { readonly deployment: string; readonly passed: boolean; readonly filter: string | null; readonly reason: string | null }[];
    readonly order: readonly string[];
  }[];
  readonly planned: readonly string[];
  readonly session: string | null;
  readonly keptDrained: boolean;
  readonly economized: boolean;
}

/** One finished request as the dashboard lists it. No secret: the key by its id (named when shown), no body. */
export interface RecentRequest {
  readonly id: string;
  readonly replica: string;
  /** When its response closed (ms since the epoch). */
  readonly at: number;
  readonly route: string;
  readonly status: number;
  readonly requestedModel: string | null;
  readonly model: string | null;
  readonly deployment: string | null;
  readonly tier: string | null;
  readonly rule: string | null;
  readonly strategy: string | null;
  readonly stream: boolean;
  readonly attempts: readonly AttemptEnd[];
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costUsd: number;
  readonly latencyMs: number;
  readonly ttftMs: number | null;
  readonly queueWaitMs: number | null;
  readonly keyId: string | null;
  readonly errorCode: string | null;
  /** Only with `dashboard.includePrompts`: the start of the last user message. */
  readonly prompt?: string;
  readonly routing: RecentRouting | null;
}

type RingPlan = Omit<RoutePlan, 'facts'>;

/** What `add` keeps until the entry is read: scalars, the plan (already built) and the prompt preview, not the body. */
interface Pending {
  readonly outcome: RequestOutcome;
  /** Without its facts: they hold the last user message whole, which a ring of requests must not keep. */
  readonly plan: RingPlan | undefined;
  readonly status: number;
  /** Epoch ms. */
  readonly at: number;
  /** The gateway's clock when the response closed. */
  readonly closedAt: number;
  readonly prompt: string | undefined;
}

export interface RecentRequestsOptions {
  readonly capacity: number;
  readonly replica: string;
  readonly includePrompts: boolean;
  /** The gateway's monotonic clock (performance.now()) and the wall clock, to date entries. */
  readonly clock: () => number;
  readonly wallClock: () => number;
}

/**
 * A bounded ring of the requests this replica finished last. Adding one stores a reference to the request's
 * outcome and plan (no copy, no serialisation on the request's path); entries are turned into `RecentRequest`s only
 * when read: by the dashboard, or by the poll that copies the new ones to Redis (`takeUnsent`).
 */
export class RecentRequests {
  private readonly ring: (Pending | undefined)[];
  /** How many entries were ever added: the next one goes to `added % capacity`. */
  private added = 0;
  /** `added` when the last `takeUnsent` ran. */
  private sent = 0;

  constructor(private readonly options: RecentRequestsOptions) {
    this.ring = new Array<Pending | undefined>(options.capacity);
  }

  get capacity(): number {
    return this.options.capacity;
  }

  add(outcome: RequestOutcome, plan: RoutePlan | undefined, body: Record<string, unknown>, status: number, closedAt: number): void {
    const { capacity } = this.options;
    if (capacity === 0) return;
    const at = Math.round(this.options.wallClock() - (this.options.clock() - closedAt));
    const prompt = this.options.includePrompts ? lastUserText(body) : undefined;
    this.ring[this.added % capacity] = { outcome, plan: plan && withoutFacts(plan), status, at, closedAt, prompt };
    this.added += 1;
  }

  /** Every entry held, newest first. */
  list(): RecentRequest[] {
    return this.range(Math.max(0, this.added - this.options.capacity));
  }

  /** The entries added since the last call, newest first (at most the capacity: older ones were overwritten). */
  takeUnsent(): RecentRequest[] {
    const entries = this.range(Math.max(this.sent, this.added - this.options.capacity));
    this.sent = this.added;
    return entries;
  }

  private range(from: number): RecentRequest[] {
    const entries: RecentRequest[] = [];
    for (let index = this.added - 1; index >= from; index -= 1) {
      const pending = this.ring[index % this.options.capacity];
      if (pending) entries.push(this.entryOf(pending));
    }
    return entries;
  }

  private entryOf({ outcome, plan, status, at, closedAt, prompt }: Pending): RecentRequest {
    const totals = totalsOf(outcome);
    return {
      id: outcome.requestId,
      replica: this.options.replica,
      at,
      route: outcome.route,
      status,
      requestedModel: outcome.requestedModel ?? null,
      model: outcome.model ?? null,
      deployment: outcome.deployment ?? null,
      tier: outcome.tier ?? null,
      rule: outcome.rule ?? null,
      strategy: outcome.strategy ?? null,
      stream: outcome.stream === true,
      attempts: outcome.attemptLog ?? [],
      promptTokens: totals.promptTokens,
      completionTokens: totals.completionTokens,
      costUsd: totals.costUsd,
      latencyMs: latencyMsOf(outcome, closedAt),
      ttftMs: ttftMsOf(outcome) ?? null,
      queueWaitMs: outcome.queueWaitMs ?? null,
      keyId: outcome.keyId ?? null,
      errorCode: outcome.errorCode ?? null,
      ...(prompt === undefined ? {} : { prompt }),
      routing: plan ? routingOf(plan) : null,
    };
  }
}

/** The routing decision of a plan, without the live figures (weights, load) explain shows: those have moved on. */
export function routingOf(plan: RingPlan): RecentRouting {
  return {
    target: { kind: plan.targetKind, name: plan.target },
    rule: plan.rule ?? null,
    strategy: plan.strategy.name,
    classification: plan.classification
      ? { tier: plan.classification.tier, confidence: Math.round(plan.classification.confidence * 1000) / 1000, reasons: plan.classification.reasons }
      : null,
    steps: plan.steps.map((step) => ({
      model: step.name,
      source: step.source,
      strategy: step.strategy,
      candidates: step.verdicts.map((verdict) => ({
        deployment: verdict.deployment.id,
        passed: verdict.passed,
        filter: verdict.filter ?? null,
        reason: verdict.reason ?? null,
      })),
      order: step.order.map((deployment) => deployment.id),
    })),
    planned: plan.attempts.map((deployment) => deployment.id),
    session: plan.session?.id ?? null,
    keptDrained: plan.keptDrained,
    economized: plan.economized === true,
  };
}

function withoutFacts({ facts: _facts, ...plan }: RoutePlan): RingPlan {
  return plan;
}

/** The start of the last user message's text (Chat Completions shape: what every ingress routes on). */
function lastUserText(body: Record<string, unknown>): string | undefined {
  const messages = body.messages;
  if (Array.isArray(messages)) {
    for (let index = messages.length - 1; index >= 0; index -= 1) {
      const message: unknown = messages[index];
      if (typeof message !== 'object' || message === null || (message as { role?: unknown }).role !== 'user') continue;
      const content = (message as { content?: unknown }).content;
      const text = typeof content === 'string' ? content : Array.isArray(content) ? content.map((part: unknown) => (typeof part === 'object' && part !== null && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : '')).join(' ') : '';
      return text.slice(0, PROMPT_PREVIEW_CHARS);
    }
  }
  const prompt = body.prompt ?? body.input;
  return typeof prompt === 'string' ? prompt.slice(0, PROMPT_PREVIEW_CHARS) : undefined;
}
