import { isRecord } from '../json.js';
import { NANO_USD } from '../state/limits.js';

/**
 * What one finished request used and cost: written by the gateway that served it, aggregated into daily totals.
 * Tokens are the backend's `usage`; where it reported none they were counted with a tokenizer (`estimated`).
 */
export interface UsageRecord {
  readonly v: 1;
  /**
   * Unique per request handled, made by the gateway: what makes aggregation idempotent. (Not the `x-request-id`:
   * a client may send the same one on every request, and a load balancer's resend is a second backend call.)
   */
  readonly id: string;
  /** The `x-request-id` the client sent or the gateway gave. */
  readonly requestId: string;
  /** When the request finished (epoch ms); its UTC day and month are the ones it counts in. */
  readonly at: number;
  /** The API key's id; absent when the gateway runs open. */
  readonly keyId?: string;
  readonly route: string;
  /** The model the client asked for, and the configured model that answered. */
  readonly requestedModel: string;
  readonly model?: string;
  readonly deployment?: string;
  /** Virtual models (`auto`, `eco`, `premium`): the tier the classifier chose. */
  readonly tier?: string;
  readonly stream: boolean;
  /** The HTTP status the client got (499 when it left first). */
  readonly status: number;
  readonly errorCode?: string;
  /** Every prompt token, cached ones included (for an Anthropic answer: input + cache read + cache creation). */
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** Of promptTokens, read from the provider's prompt cache; absent when none. */
  readonly cacheReadTokens?: number;
  /** Of promptTokens, written to the provider's prompt cache; absent when none. */
  readonly cacheWriteTokens?: number;
  /** True when the tokens were counted by the gateway's tokenizer, the backend having reported none. */
  readonly estimated: boolean;
  /** At the catalog's prices for the deployment that answered. */
  readonly costUsd: number;
  readonly latencyMs: number;
  /** Streams: time to the first token, from when the gateway received the request. */
  readonly ttftMs?: number;
  readonly attempts: number;
  /**
   * A stream continued after a break: every attempt that served part of it, charged to its own deployment (the
   * record's tokens and cost are their sums). Absent for every other request.
   */
  readonly charges?: readonly UsageCharge[];
  /** Served from the response cache: no backend was asked, `costUsd` is 0 and the tokens are 0. Absent otherwise. */
  readonly cacheHit?: true;
  /** A cache hit: what the answer cost when it was first made, at that deployment's prices. */
  readonly savedUsd?: number;
  /** The gateway replica that served it. */
  readonly replica: string;
}

/** What one attempt of a continued stream used, at its deployment's prices. */
export interface UsageCharge {
  readonly deployment: string;
  readonly model: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly estimated: boolean;
  readonly costUsd: number;
  /** How that attempt ended: its stream broke (`cut`, `stall`, `malformed`) or it lost a hedge race (`hedge`); absent for the one that finished. */
  readonly endedBy?: string;
}

const DAY_MS = 86_400_000;
/** The last day and month named, and their bounds: almost every call asks for the current one again. */
let lastDay = { start: 0, end: 0, name: '' };
let lastMonth = { start: 0, end: 0, name: '' };

/** The UTC day a time falls in: `2026-11-24`. */
export function usageDay(epochMs: number): string {
  if (epochMs >= lastDay.start && epochMs < lastDay.end) return lastDay.name;
  const start = Math.floor(epochMs / DAY_MS) * DAY_MS;
  lastDay = { start, end: start + DAY_MS, name: new Date(start).toISOString().slice(0, 10) };
  return lastDay.name;
}

/** The UTC month a time falls in: `2026-11`. */
export function usageMonth(epochMs: number): string {
  if (epochMs >= lastMonth.start && epochMs < lastMonth.end) return lastMonth.name;
  const date = new Date(epochMs);
  const start = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  lastMonth = { start, end: Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1), name: date.toISOString().slice(0, 7) };
  return lastMonth.name;
}

/** Milliseconds from `epochMs` to the end of its UTC day or month: when a spent budget renews. */
export function msUntilPeriodEnds(epochMs: number, period: 'day' | 'month'): number {
  const now = new Date(epochMs);
  const end =
    period === 'day'
      ? Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)
      : Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  return end - epochMs;
}

/** A cost in whole nano-dollars, the unit spend and totals are summed in. */
export function toNanoUsd(usd: number): number {
  return Math.round(usd * NANO_USD);
}

const text = (value: unknown): value is string => typeof value === 'string';
const count = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;
/** Token counts and statuses are summed with HINCRBY: whole numbers only, or a forged entry would abort a batch. */
const whole = (value: unknown): value is number => count(value) && Number.isSafeInteger(value);

/** A record read back from the stream, or undefined when it is not one (a poison entry: acknowledged and logged). */
export function parseUsageRecord(serialized: string): UsageRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(serialized);
  } catch {
    return undefined;
  }
  return asUsageRecord(value);
}

/** A parsed value as a usage record, or undefined when it is not one. */
export function asUsageRecord(value: unknown): UsageRecord | undefined {
  if (!isRecord(value) || value.v !== 1) return undefined;
  const { id, requestId, at, route, requestedModel, status, promptTokens, completionTokens, costUsd, latencyMs, attempts, replica } = value;
  if (!text(id) || !text(requestId) || !count(at) || !text(route) || !text(requestedModel) || !text(replica)) return undefined;
  if (!whole(status) || !whole(promptTokens) || !whole(completionTokens) || !count(costUsd) || toNanoUsd(costUsd) > Number.MAX_SAFE_INTEGER || !count(latencyMs) || !count(attempts)) return undefined;
  if (typeof value.stream !== 'boolean' || typeof value.estimated !== 'boolean') return undefined;
  for (const optional of ['keyId', 'model', 'deployment', 'tier', 'errorCode'] as const) {
    if (value[optional] !== undefined && !text(value[optional])) return undefined;
  }
  if (value.ttftMs !== undefined && !count(value.ttftMs)) return undefined;
  if (value.savedUsd !== undefined && !count(value.savedUsd)) return undefined;
  if (value.cacheHit !== undefined && value.cacheHit !== true) return undefined;
  if (value.charges !== undefined && !(Array.isArray(value.charges) && value.charges.every(isCharge))) return undefined;
  for (const optional of ['cacheReadTokens', 'cacheWriteTokens'] as const) {
    if (value[optional] !== undefined && !whole(value[optional])) return undefined;
  }
  return value as unknown as UsageRecord;
}

function isCharge(value: unknown): boolean {
  if (!isRecord(value)) return false;
  const { deployment, model, promptTokens, completionTokens, costUsd } = value;
  return text(deployment) && text(model) && whole(promptTokens) && whole(completionTokens) && count(costUsd) && toNanoUsd(costUsd) <= Number.MAX_SAFE_INTEGER;
}
