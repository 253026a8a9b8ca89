/**
 * Every misbehaviour the simulator can produce. The order matters: rate-based draws walk the kinds in this order,
 * so changing it changes which fault a given seed produces.
 */
export const FAULT_KINDS = [
  'rate_limit',
  'server_error',
  'unavailable',
  'overloaded',
  'reset',
  'hang',
  'slow_first_token',
  'stream_cut',
  'stream_stall',
  'malformed_chunk',
  'context_length',
  'content_policy',
  'empty',
  'bad_request',
  // Appended: rates that name only the kinds above draw exactly what they drew before.
  'stream_error',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];
