import type { Deployment } from '../../catalog/catalog.js';
import type { Strategy, StrategyContext } from '../types.js';
import { routable, type RoutableDeployment } from './routable.js';

export interface RoundRobinOptions {
  /**
   * Candidate sets whose rotation is remembered; past this the least recently used set is forgotten and restarts
   * its rotation. Default 1,000: far more than the models times the subsets the filters leave.
   */
  readonly maxRotations?: number;
}

const DEFAULT_MAX_ROTATIONS = 1_000;

/**
 * Smooth weighted round-robin, nginx's algorithm: on each request every deployment's current value grows by its
 * effective weight, the largest is picked and drops by the total. Weights 3:1 give a, a, b, a — the exact shares
 * over every cycle, spread out rather than in bursts. Ties go to the earlier candidate. The rest follow by
 * current value, largest first: the order the next requests would pick them in.
 *
 * The rotation is state, so this is a factory: one instance per gateway replica, one rotation per set of routable
 * deployments (a drained deployment leaves a set and starts another). Every replica rotates on its own; the
 * cluster-wide shares are still the weights'. Weight 0 is left out as in the weighted strategy.
 */
export function createRoundRobinStrategy(options: RoundRobinOptions = {}): Strategy {
  const maxRotations = options.maxRotations ?? DEFAULT_MAX_ROTATIONS;
  const rotations = new Map<string, Map<string, number>>();

  function rotationOf(pool: readonly RoutableDeployment[]): Map<string, number> {
    const key = pool.map((entry) => entry.deployment.id).sort().join('\n');
    const rotation = rotations.get(key) ?? new Map<string, number>();
    // Re-inserting keeps the Map in least-recently-used order, so the first key is the one to forget.
    rotations.delete(key);
    rotations.set(key, rotation);
    if (rotations.size > maxRotations) rotations.delete(rotations.keys().next().value!);
    return rotation;
  }

  return {
    name: 'round-robin',
    order(candidates: readonly Deployment[], { snapshot }: StrategyContext): Deployment[] {
      const pool = routable(candidates, snapshot);
      if (pool.length === 0) return [...candidates];
      const rotation = rotationOf(pool);
      const current = (entry: RoutableDeployment): number => rotation.get(entry.deployment.id) ?? 0;
      let total = 0;
      let picked = pool[0]!;
      for (const entry of pool) {
        rotation.set(entry.deployment.id, current(entry) + entry.weight);
        total += entry.weight;
        if (current(entry) > current(picked)) picked = entry;
      }
      rotation.set(picked.deployment.id, current(picked) - total);
      const rest = pool.filter((entry) => entry !== picked).sort((left, right) => current(right) - current(left));
      return [picked.deployment, ...rest.map((entry) => entry.deployment)];
    },
  };
}
