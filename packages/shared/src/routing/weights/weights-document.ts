import { isRecord } from '../../json.js';
import { isHealthState, type DeploymentHealth, type HealthState } from './deployment-health.js';

/** The layout of the published weights table. A reader that does not know a document's version ignores it. */
export const WEIGHTS_SCHEMA_VERSION = 1;

export interface PublishedHealth {
  readonly state: HealthState;
  readonly score: number;
}

/** The routing weights table the prober publishes and every gateway reads. */
export interface WeightsDocument {
  readonly schemaVersion: typeof WEIGHTS_SCHEMA_VERSION;
  /** Increases with every publication, so a reader can ignore one that arrives late. */
  readonly generation: number;
  /** When the prober published it (ms); readers fall back to configured weights once it is too old. */
  readonly publishedAt: number;
  /** Effective weight per deployment id. A deployment missing here uses its configured weight. */
  readonly weights: Readonly<Record<string, number>>;
  /** For dashboards and logs; routing reads `weights` only. */
  readonly health?: Readonly<Record<string, PublishedHealth>>;
}

export interface WeightsDocumentOptions {
  readonly generation: number;
  readonly publishedAt: number;
  readonly weights: ReadonlyMap<string, number>;
  readonly health?: ReadonlyMap<string, DeploymentHealth>;
}

export function buildWeightsDocument(options: WeightsDocumentOptions): WeightsDocument {
  // Object.fromEntries defines own properties, so an id such as "__proto__" is a key like any other.
  const weights = Object.fromEntries(options.weights);
  if (options.health === undefined) {
    return { schemaVersion: WEIGHTS_SCHEMA_VERSION, generation: options.generation, publishedAt: options.publishedAt, weights };
  }
  const health = Object.fromEntries(
    [...options.health].map(([id, record]) => [id, { state: record.state, score: record.score }] as const),
  );
  return { schemaVersion: WEIGHTS_SCHEMA_VERSION, generation: options.generation, publishedAt: options.publishedAt, weights, health };
}

export function serializeWeightsDocument(document: WeightsDocument): string {
  return JSON.stringify(document);
}

/**
 * The document in `json`, or undefined when it is malformed or of a schema version this reader does not know: the
 * reader then keeps its last good copy. Fields this version does not define are dropped.
 */
export function parseWeightsDocument(json: string): WeightsDocument | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (!isRecord(value) || value.schemaVersion !== WEIGHTS_SCHEMA_VERSION) return undefined;
  const { generation, publishedAt } = value;
  if (typeof generation !== 'number' || !Number.isSafeInteger(generation) || generation < 0) return undefined;
  if (!isNonNegative(publishedAt)) return undefined;
  const weights = parseWeights(value.weights);
  if (weights === undefined) return undefined;
  if (value.health === undefined) return { schemaVersion: WEIGHTS_SCHEMA_VERSION, generation, publishedAt, weights };
  const health = parseHealth(value.health);
  if (health === undefined) return undefined;
  return { schemaVersion: WEIGHTS_SCHEMA_VERSION, generation, publishedAt, weights, health };
}

/**
 * Whether a reader holding `current` should take `candidate`: a later generation, or a later publication time, so
 * that a prober that restarted and counts generations from 0 again is still heard. A late pub/sub message (neither
 * later) is ignored.
 */
export function isNewerWeightsDocument(candidate: WeightsDocument, current: WeightsDocument | undefined): boolean {
  return current === undefined || candidate.generation > current.generation || candidate.publishedAt > current.publishedAt;
}

/** Whether `document` is older than `maxAgeMs` at `now`; a stale table means the prober is down. */
export function isWeightsDocumentStale(document: WeightsDocument, now: number, maxAgeMs: number): boolean {
  return now - document.publishedAt > maxAgeMs;
}

/** The weights as the routing snapshot holds them. */
export function weightsOf(document: WeightsDocument): Map<string, number> {
  return new Map(Object.entries(document.weights));
}

function parseWeights(value: unknown): Record<string, number> | undefined {
  if (!isRecord(value)) return undefined;
  const entries = Object.entries(value);
  if (!entries.every(([, weight]) => isNonNegative(weight))) return undefined;
  return Object.fromEntries(entries) as Record<string, number>;
}

function parseHealth(value: unknown): Record<string, PublishedHealth> | undefined {
  if (!isRecord(value)) return undefined;
  const entries: [string, PublishedHealth][] = [];
  for (const [id, entry] of Object.entries(value)) {
    if (!isRecord(entry) || !isHealthState(entry.state) || !isNonNegative(entry.score) || entry.score > 1) return undefined;
    entries.push([id, { state: entry.state, score: entry.score }]);
  }
  return Object.fromEntries(entries);
}

function isNonNegative(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}
