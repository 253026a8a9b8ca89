import { buildWeightsDocument, type DeploymentHealth, type WeightsDocument } from '@dosrouter/shared';

export interface NextDocument {
  readonly document: WeightsDocument;
  /** Whether a weight or a state differs from the previous document: only then is it announced on pub/sub. */
  readonly changed: boolean;
}

/**
 * The document to publish after a step, as publication number `generation` (every write has a higher one than the
 * last: the store's revision). Every step republishes, and a fresh `publishedAt` tells gateways the prober is alive
 * (they read it on their poll); it is announced on pub/sub only when a weight or a state changed. `publishedAt` is
 * this prober's clock as it is: a clock that ran ahead must not date every later table in the future.
 */
export function nextWeightsDocument(
  previous: WeightsDocument | undefined,
  health: ReadonlyMap<string, DeploymentHealth>,
  now: number,
  generation: number,
): NextDocument {
  const weights = new Map([...health].map(([id, record]) => [id, record.weight] as const));
  const changed = previous === undefined || !sameTable(previous, health);
  return { document: buildWeightsDocument({ generation, publishedAt: now, weights, health }), changed };
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
