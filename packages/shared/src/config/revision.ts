import { createHash } from 'node:crypto';
import type { GatewayConfig } from './schema.js';

/** Hex digits of the SHA-256 a revision keeps: short enough to read in a log line, long enough never to collide. */
const REVISION_LENGTH = 12;

/** JSON with every object's keys sorted, so that two configs that mean the same hash the same whatever their order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * A config's revision: the first 12 hex digits of the SHA-256 of the effective, validated config (defaults filled
 * in, `${…}` references and environment overrides applied) as canonical JSON. Replicas that run the same config
 * report the same revision, so a half-rolled change shows as two revisions. `storage` is left out: it is each
 * process's own (`DOSROUTER_DATA_DIR`; embedded mode only), and replicas that differ in it alone run the same config.
 * One-way: it reveals nothing of the secrets the config holds.
 */
export function configRevision(config: GatewayConfig): string {
  const { storage: _perProcess, ...shared } = config;
  return createHash('sha256').update(canonicalJson(shared)).digest('hex').slice(0, REVISION_LENGTH);
}
