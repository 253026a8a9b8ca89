import { parseFaultInjection } from '../faults/fault-injection-schema.js';
import type { SimulatorState } from './simulator-state.js';

/** Validates and queues one fault; shared by Simulator.injectFaults and POST /_sim/faults. */
export function injectFault(state: SimulatorState, input: unknown): void {
  state.faults.inject(parseFaultInjection(input, new Set(state.options.models.keys())));
}

export function resetState(state: SimulatorState): void {
  state.stats.reset();
  state.faults.reset();
  state.recorder.clear();
}
