import { parseFaultInjection } from '../faults/fault-injection-schema.js';
import { parseOutage } from '../faults/outage.js';
import type { SimulatorStats } from '../types.js';
import type { SimulatorState } from './simulator-state.js';

/** Validates and queues one fault; shared by Simulator.injectFaults and POST /_sim/faults. */
export function injectFault(state: SimulatorState, input: unknown): void {
  state.faults.inject(parseFaultInjection(input, new Set(state.options.models.keys())));
}

/** Validates and sets the outage, or ends it on undefined; shared by Simulator.setOutage and PUT /_sim/outage. */
export function setOutage(state: SimulatorState, input: unknown): void {
  state.outage = input === undefined ? undefined : parseOutage(input);
}

/** The counters with the reported usage totals; shared by Simulator.stats and GET /_sim/stats. */
export function readStats(state: SimulatorState): SimulatorStats {
  return { ...state.stats.snapshot(), usage: state.usage.snapshotTotals() };
}

export function resetState(state: SimulatorState): void {
  state.stats.reset();
  state.usage.clear();
  state.faults.reset();
  state.outage = undefined;
  state.recorder.clear();
  state.promptCache.clear();
}
