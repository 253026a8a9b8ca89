export { probeModels } from './probes/models-probe.js';
export { probeChat, CHAT_PROBE_MAX_TOKENS, CHAT_PROBE_REASONING_MAX_TOKENS } from './probes/chat-probe.js';
export type { ChatProbeResult, ChatProbeTarget } from './probes/chat-probe.js';
export { probeHttp } from './probes/http-probe.js';
export type { HttpProbeTarget } from './probes/http-probe.js';
export { runProbe } from './probes/run-probe.js';
export type { ProbeKind, ProbeOptionsByKind } from './probes/run-probe.js';
export type { ProbeResult, ProbeTarget } from './probes/probe-result.js';
