export { startSimulator } from './simulator.js';
export { FAULT_KINDS } from './faults/fault-kinds.js';
export type { FaultKind } from './faults/fault-kinds.js';
export { DEFAULT_SLOW_FIRST_TOKEN_DELAY_MS } from './faults/fault-schedule.js';
export { DEFAULT_SIMULATED_MODELS } from './config/default-models.js';
export { loadConfigFile } from './config/load-config-file.js';
export { JSON_STYLES } from './delivery/json-style.js';
export type { JsonStyle } from './delivery/json-style.js';
export type {
  FaultInjection,
  Outage,
  OutageMode,
  RecordedRequest,
  SimulatedModel,
  Simulator,
  SimulatorOptions,
  SimulatorStats,
  UsageTotals,
} from './types.js';
