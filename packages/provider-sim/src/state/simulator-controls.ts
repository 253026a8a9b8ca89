import { parseFaultInjection } from '../faults/fault-injection-schema.js';
import { parseOutage } from '../faults/outage.js';
import type { SimulatorState } from './simulator-state.js';

/** Validates and queues one fault; shared by Simulator.injectFaults and POST /_sim/faults. */
export function injectFault(state: SimulatorState, input: unknown): void {
  state.faults.inject(parseFaultInjection(input, new Set(state.options.models.keys())));
}

/** Validates and sets the outage, or ends it on undefined; shared by Simulator.setOutage and PUT /_sim/outage. */
export function setOutage(state: SimulatorState, input: unknown): void {
  state.outage = input === undefined ? undefined : parseOutage(input);
}

export function resetState(state: SimulatorState): void {
  state.stats.reset();
  state.faults.reset();
  state.outage = undefined;
  state.recorder.clear();
}
