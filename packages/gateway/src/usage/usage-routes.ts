import type { Express, Request, RequestHandler, Response } from 'express';
import { requireAdminKey } from '@dosrouter/health-prober';
import { NO_KEY, dayCount, daysBetween, invalidRequest, summarizeUsage, usageDay, type ApiKeyRecord, type KeyStore, type Logger, type UsageGrouping, type UsageLedger, type UsageQuery } from '@dosrouter/shared';
import { refuseCrossSite } from '../auth/key-routes.js';

/** The longest range one query may span. */
const MAX_DAYS = 366;
/** Without `from`: the last 30 days. */
const DEFAULT_DAYS = 30;
const GROUPINGS: readonly UsageGrouping[] = ['key', 'model', 'day'];

/**
 * Usage totals: `GET /admin/usage` (every key; behind the admin key) and `GET /v1/usage` (the caller's own key).
 * Both take `from` and `to` (UTC days, `2026-11-24`, or any date-time, inclusive; default the last 30 days),
 * `model`, and `group_by` (a comma list of key, model, day; default none: one row); the admin one also `key`.
 * Totals are per UTC day: a time range is widened to whole days.
 */
export function registerUsageRoutes(
  app: Express,
  options: { ledger: UsageLedger; keys?: KeyStore; adminKey?: string; logger: Logger; clientContext: RequestHandler[] },
): void {
  const { ledger, keys } = options;
  const answer = async (response: Response, query: UsageQuery, keyNames?: Map<string, string>): Promise<void> => {
    const [days, backlog] = await Promise.all([ledger.readDays(daysBetween(query.from, query.to), query.keyId), ledger.backlog()]);
    const { rows, totals } = summarizeUsage(days, query);
    response.setHeader('cache-control', 'no-store');
    response.json({
      object: 'usage',
      from: query.from,
      to: query.to,
      group_by: query.groupBy,
      ...(query.keyId !== undefined ? { key: query.keyId } : {}),
      ...(query.model !== undefined ? { model: query.model } : {}),
      data: keyNames ? rows.map((row) => (row.key !== undefined ? { ...row, key_name: keyNames.get(row.key) ?? null } : row)) : rows,
      totals,
      // Records written but not yet in these totals (they are counted within moments while a replica runs).
      pending_records: backlog,
    });
  };

  if (options.adminKey) {
    app.get('/admin/usage', requireAdminKey({ adminKey: options.adminKey, logger: options.logger }), refuseCrossSite, async (request: Request, response: Response) => {
      const query = parseQuery(request.query, true);
      const names = keys && query.groupBy.includes('key') ? new Map((await keys.list()).map((key) => [key.id, key.name])) : undefined;
      await answer(response, query, names);
    });
  }
  app.get('/v1/usage', ...options.clientContext, async (request: Request, response: Response) => {
    const apiKey = response.locals.apiKey as ApiKeyRecord | undefined;
    // Open mode has no keys: the caller sees the usage of every request made without one.
    await answer(response, { ...parseQuery(request.query, false), keyId: apiKey?.id ?? NO_KEY });
  });
}

function parseQuery(query: Request['query'], admin: boolean): UsageQuery {
  const known = new Set(['from', 'to', 'model', 'group_by', ...(admin ? ['key'] : [])]);
  for (const name of Object.keys(query)) {
    if (!known.has(name)) throw invalidRequest(`Unknown query parameter "${name}"; known: ${[...known].join(', ')}.`, name, 'unknown_parameter');
  }
  const text = (name: string): string | undefined => {
    const value = query[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value === '') throw invalidRequest(`${name} must be given once, as a non-empty string.`, name, 'invalid_value');
    return value;
  };
  const to = dayOf(text('to'), 'to') ?? usageDay(Date.now());
  const from = dayOf(text('from'), 'from') ?? usageDay(Date.parse(`${to}T00:00:00Z`) - (DEFAULT_DAYS - 1) * 86_400_000);
  if (from > to) throw invalidRequest(`from (${from}) is after to (${to}).`, 'from', 'invalid_value');
  if (dayCount(from, to) > MAX_DAYS) throw invalidRequest(`A query spans at most ${MAX_DAYS} days.`, 'from', 'invalid_value');
  const groupBy = (text('group_by') ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  for (const grouping of groupBy) {
    if (!(GROUPINGS as readonly string[]).includes(grouping) || (!admin && grouping === 'key')) {
      throw invalidRequest(`group_by takes ${admin ? 'key, model and day' : 'model and day'}; got "${grouping}".`, 'group_by', 'invalid_value');
    }
  }
  const keyId = admin ? text('key') : undefined;
  const model = text('model');
  return { from, to, groupBy: [...new Set(groupBy)] as UsageGrouping[], ...(keyId !== undefined ? { keyId } : {}), ...(model !== undefined ? { model } : {}) };
}

/** Times a query may name: from 2000 to 2100, which every stored day falls in. */
const EARLIEST = Date.UTC(2000, 0, 1);
const LATEST = Date.UTC(2100, 0, 1);

/** A UTC day from `2026-11-24`, a date-time, or epoch seconds. */
function dayOf(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const time = /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T00:00:00Z`) : /^\d{1,12}$/.test(value) ? Number(value) * 1000 : Date.parse(value);
  if (Number.isNaN(time) || time < EARLIEST || time >= LATEST) {
    throw invalidRequest(`${name} must be a day (2026-11-24), a date-time or epoch seconds between 2000 and 2100; got "${value.slice(0, 64)}".`, name, 'invalid_value');
  }
  return usageDay(time);
}
