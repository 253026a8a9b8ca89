export { probeModels } from './probes/models-probe.js';
export type { ProbeResult, ProbeTarget } from './probes/probe-result.js';
