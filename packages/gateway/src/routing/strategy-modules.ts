import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { StrategyRegistry, type Strategy } from '@dosrouter/shared';

/**
 * The strategy registry: the built-ins, then `extra` (given in code), then each file of `routing.strategyModules`,
 * which must default-export (or export as `strategy`) an object with a `name` and an `order` function. A file that
 * cannot be loaded or exports something else stops the start with an error naming it.
 */
export async function loadStrategies(modules: readonly string[], extra: readonly Strategy[]): Promise<StrategyRegistry> {
  const registry = new StrategyRegistry();
  for (const strategy of extra) registry.register(strategy);
  for (const path of modules) {
    let exported: Record<string, unknown>;
    try {
      exported = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`routing.strategyModules: cannot load ${path}: ${(error as Error).message}`);
    }
    const strategy = (exported.default ?? exported.strategy) as Partial<Strategy> | undefined;
    if (!strategy || typeof strategy.name !== 'string' || typeof strategy.order !== 'function') {
      throw new Error(`routing.strategyModules: ${path} must export a strategy { name, order(candidates, context) } as default`);
    }
    registry.register(strategy as Strategy);
  }
  return registry;
}
