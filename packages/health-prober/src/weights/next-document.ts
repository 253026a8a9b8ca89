import { buildWeightsDocument, type DeploymentHealth, type WeightsDocument } from '@dosrouter/shared';

export interface NextDocument {
  readonly document: WeightsDocument;
  /** Whether a weight or a state differs from the previous document: only then is it announced on pub/sub. */
  readonly changed: boolean;
}

/**
 * The document to publish after a step. Every step republishes (a fresh `publishedAt` tells gateways the prober is
 * alive, and they read it on their poll); the generation moves, and the document is announced, only when a weight
 * or a state changed.
 */
export function nextWeightsDocument(
  previous: WeightsDocument | undefined,
  health: ReadonlyMap<string, DeploymentHealth>,
  now: number,
): NextDocument {
  const weights = new Map([...health].map(([id, record]) => [id, record.weight] as const));
  const changed = previous === undefined || !sameTable(previous, health);
  const generation = changed ? (previous?.generation ?? 0) + 1 : previous.generation;
  // Never older than the previous table, even if this prober's clock is behind the one that wrote it.
  const publishedAt = Math.max(now, previous === undefined ? 0 : previous.publishedAt + 1);
  return { document: buildWeightsDocument({ generation, publishedAt, weights, health }), changed };
}

function sameTable(previous: WeightsDocument, health: ReadonlyMap<string, DeploymentHealth>): boolean {
  const ids = Object.keys(previous.weights);
  if (ids.length !== health.size) return false;
  for (const [id, record] of health) {
    if (previous.weights[id] !== record.weight) return false;
    const published = previous.health?.[id];
    if (published === undefined || published.state !== record.state) return false;
  }
  return true;
}
