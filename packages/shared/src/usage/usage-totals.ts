import type { UsageRecord } from './usage-record.js';
import { toNanoUsd } from './usage-record.js';
import { NANO_USD } from '../state/limits.js';

/**
 * Daily totals: per UTC day and API key, one table of counters named `<model>\t<metric>`. Redis keeps each as a hash
 * (HINCRBY) plus a set of the keys with usage that day; memory as maps. The query below reads either. A key's own
 * query reads only its own tables.
 */
export const USAGE_METRICS = ['requests', 'failed', 'promptTokens', 'completionTokens', 'costNanoUsd', 'estimated', 'cacheReadTokens', 'cacheWriteTokens', 'cacheHits', 'savedNanoUsd'] as const;
export type UsageMetric = (typeof USAGE_METRICS)[number];

/** The key column of requests made without a key (open mode). */
export const NO_KEY = '-';

/** The model column of requests no configured model took (an unknown model name: the client's text is not kept). */
export const NO_MODEL = '-';

/** One key's counters for one day, as read back. */
export interface UsageDay {
  readonly day: string;
  readonly keyId: string;
  readonly counters: Readonly<Record<string, number>>;
}

/** The key a record counts under. */
export function usageKeyOf(record: UsageRecord): string {
  return record.keyId ?? NO_KEY;
}

/** The counters one record adds to its key's day, as [counter name, amount] (zero amounts left out). */
export function usageIncrements(record: UsageRecord): [string, number][] {
  if (record.charges !== undefined && record.charges.length > 0) return chargedIncrements(record, record.charges);
  const prefix = `${record.model ?? NO_MODEL}\t`;
  const amounts: Record<UsageMetric, number> = {
    requests: 1,
    failed: record.status >= 400 || record.errorCode !== undefined ? 1 : 0,
    promptTokens: record.promptTokens,
    completionTokens: record.completionTokens,
    costNanoUsd: toNanoUsd(record.costUsd),
    estimated: record.estimated ? 1 : 0,
    cacheReadTokens: record.cacheReadTokens ?? 0,
    cacheWriteTokens: record.cacheWriteTokens ?? 0,
    cacheHits: record.cacheHit ? 1 : 0,
    savedNanoUsd: toNanoUsd(record.savedUsd ?? 0),
  };
  return USAGE_METRICS.filter((metric) => amounts[metric] !== 0).map((metric) => [prefix + metric, amounts[metric]]);
}

/**
 * A continued stream's counters: the request under the model that finished it, each attempt's tokens and cost under
 * the model of the deployment that served it.
 */
function chargedIncrements(record: UsageRecord, charges: NonNullable<UsageRecord['charges']>): [string, number][] {
  const totals = new Map<string, number>();
  const add = (model: string, metric: UsageMetric, amount: number): void => {
    if (amount === 0) return;
    const name = `${model}\t${metric}`;
    totals.set(name, (totals.get(name) ?? 0) + amount);
  };
  const model = record.model ?? NO_MODEL;
  add(model, 'requests', 1);
  add(model, 'failed', record.status >= 400 || record.errorCode !== undefined ? 1 : 0);
  add(model, 'estimated', record.estimated ? 1 : 0);
  for (const charge of charges) {
    add(charge.model, 'promptTokens', charge.promptTokens);
    add(charge.model, 'completionTokens', charge.completionTokens);
    add(charge.model, 'costNanoUsd', toNanoUsd(charge.costUsd));
  }
  return [...totals];
}

export type UsageGrouping = 'key' | 'model' | 'day';

export interface UsageQuery {
  /** Inclusive UTC days, `2026-11-01`. */
  readonly from: string;
  readonly to: string;
  readonly keyId?: string;
  readonly model?: string;
  /** Empty: one row of totals. */
  readonly groupBy: readonly UsageGrouping[];
}

/** One row of a usage answer, in the API's snake_case; grouping columns only when grouped by them. */
export interface UsageRow {
  key?: string;
  model?: string;
  day?: string;
  requests: number;
  failed_requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost_usd: number;
  /** Requests whose tokens the gateway counted itself (the backend reported none). */
  estimated_requests: number;
  /** Of prompt_tokens, those read from and written to the providers' prompt caches. */
  cache_read_tokens: number;
  cache_write_tokens: number;
  /** Requests answered from the gateway's response cache (or an identical request in flight), and what they saved. */
  cache_hits: number;
  saved_usd: number;
}

function emptyRow(): UsageRow {
  return { requests: 0, failed_requests: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cost_usd: 0, estimated_requests: 0, cache_read_tokens: 0, cache_write_tokens: 0, cache_hits: 0, saved_usd: 0 };
}

const ROW_FIELDS: Record<UsageMetric, Exclude<keyof UsageRow, 'key' | 'model' | 'day' | 'total_tokens' | 'cost_usd' | 'saved_usd'> | 'cost' | 'saved'> = {
  requests: 'requests',
  failed: 'failed_requests',
  promptTokens: 'prompt_tokens',
  completionTokens: 'completion_tokens',
  costNanoUsd: 'cost',
  estimated: 'estimated_requests',
  cacheReadTokens: 'cache_read_tokens',
  cacheWriteTokens: 'cache_write_tokens',
  cacheHits: 'cache_hits',
  savedNanoUsd: 'saved',
};

/** The rows for a query over the days read (days outside the range are ignored), sorted, plus their totals. */
export function summarizeUsage(days: readonly UsageDay[], query: UsageQuery): { rows: UsageRow[]; totals: UsageRow } {
  const groups = new Map<string, { row: UsageRow; costNano: number; savedNano: number }>();
  const totals = { row: emptyRow(), costNano: 0, savedNano: 0 };
  for (const { day, keyId: key, counters } of days) {
    if (day < query.from || day > query.to) continue;
    if (query.keyId !== undefined && key !== query.keyId) continue;
    for (const [name, amount] of Object.entries(counters)) {
      const [model, metric] = name.split('\t') as [string, UsageMetric | undefined];
      if (metric === undefined || !(metric in ROW_FIELDS)) continue;
      if (query.model !== undefined && model !== query.model) continue;
      const columns: Partial<Pick<UsageRow, 'key' | 'model' | 'day'>> = {};
      for (const grouping of query.groupBy) columns[grouping] = grouping === 'key' ? key : grouping === 'model' ? model : day;
      const groupId = query.groupBy.map((grouping) => columns[grouping]).join('\t');
      let group = groups.get(groupId);
      if (!group) {
        group = { row: { ...columns, ...emptyRow() }, costNano: 0, savedNano: 0 };
        groups.set(groupId, group);
      }
      for (const target of [group, totals]) add(target, metric, amount);
    }
  }
  const rows = [...groups.values()].map(finish);
  rows.sort((a, b) => (a.day ?? '').localeCompare(b.day ?? '') || (a.key ?? '').localeCompare(b.key ?? '') || (a.model ?? '').localeCompare(b.model ?? ''));
  return { rows, totals: finish(totals) };
}

function add(target: { row: UsageRow; costNano: number; savedNano: number }, metric: UsageMetric, amount: number): void {
  const field = ROW_FIELDS[metric];
  if (field === 'cost') target.costNano += amount;
  else if (field === 'saved') target.savedNano += amount;
  else target.row[field] += amount;
}

function finish({ row, costNano, savedNano }: { row: UsageRow; costNano: number; savedNano: number }): UsageRow {
  return { ...row, total_tokens: row.prompt_tokens + row.completion_tokens, cost_usd: costNano / NANO_USD, saved_usd: savedNano / NANO_USD };
}

/** The number of UTC days from `from` to `to`, inclusive (0 when `to` is before `from`), without listing them. */
export function dayCount(from: string, to: string): number {
  return Math.max(0, Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1);
}

/** The UTC days from `from` to `to`, inclusive. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let time = Date.parse(`${from}T00:00:00Z`), end = Date.parse(`${to}T00:00:00Z`); time <= end; time += 86_400_000) {
    days.push(new Date(time).toISOString().slice(0, 10));
  }
  return days;
}
