import type { Strategy } from '../types.js';
import { capabilityStrategy } from './capability.js';
import { costStrategy } from './cost.js';
import { latencyStrategy } from './latency.js';
import { leastBusyStrategy } from './least-busy.js';
import { createRoundRobinStrategy } from './round-robin.js';
import { weightedStrategy } from './weighted.js';

export const BUILT_IN_STRATEGY_NAMES = ['weighted', 'round-robin', 'least-busy', 'latency', 'cost', 'capability'] as const;
export type BuiltInStrategyName = (typeof BUILT_IN_STRATEGY_NAMES)[number];

/** Lower-case words joined by hyphens: the form config and the `x-dosrouter-strategy` header use. */
const STRATEGY_NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/**
 * The strategies a gateway can route with, by name. It starts with the built-ins; a user strategy is one file
 * that exports a `Strategy` and one `register` call. Each registry has its own round-robin rotation.
 */
export class StrategyRegistry {
  private readonly strategies = new Map<string, Strategy>();

  constructor() {
    for (const strategy of [weightedStrategy, createRoundRobinStrategy(), leastBusyStrategy, latencyStrategy, costStrategy, capabilityStrategy]) {
      this.register(strategy);
    }
  }

  /** Adds a strategy. Throws on a malformed name or one already taken: a built-in is never replaced by accident. */
  register(strategy: Strategy): this {
    if (!STRATEGY_NAME.test(strategy.name)) {
      throw new Error(`routing strategy name "${strategy.name}" must be lower-case words joined by hyphens`);
    }
    if (this.strategies.has(strategy.name)) {
      throw new Error(`a routing strategy named "${strategy.name}" is already registered`);
    }
    this.strategies.set(strategy.name, strategy);
    return this;
  }

  /** The strategy with this name, or undefined: the caller decides whether an unknown name is a 400 or a config error. */
  get(name: string): Strategy | undefined {
    return this.strategies.get(name);
  }

  names(): string[] {
    return [...this.strategies.keys()];
  }
}
