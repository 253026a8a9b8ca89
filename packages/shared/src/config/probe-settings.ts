import type { ProbeConfig, ProbeOverrides } from './schema.js';

interface ProbeSchedule {
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/** One deployment's probe, with the defaults and overrides applied and the kind's own fields checked. */
export type ProbeSettings = ProbeSchedule &
  (
    | { readonly kind: 'models' }
    | { readonly kind: 'chat'; readonly reasoning: boolean }
    | { readonly kind: 'http'; readonly path: string; readonly expectedStatus: number; readonly sendHeaders: boolean }
  );

/**
 * `prober.probe`, then the backend's `probe`, then the model's, field by field. Undefined when the deployment is not
 * probed (`enabled: false`). Throws, with a message naming what to fix, when the result is not a usable probe.
 */
export function resolveProbeSettings(
  defaults: ProbeConfig,
  backend: ProbeOverrides | undefined,
  model: ProbeOverrides | undefined,
): ProbeSettings | undefined {
  const merged = { ...defaults, ...definedFields(backend), ...definedFields(model) };
  if (!merged.enabled) return undefined;
  const problem = probeProblem(merged);
  if (problem !== undefined) throw new Error(problem);
  const schedule = { intervalMs: merged.intervalMs, timeoutMs: merged.timeoutMs };
  switch (merged.kind) {
    case 'models':
      return { kind: 'models', ...schedule };
    case 'chat':
      return { kind: 'chat', reasoning: merged.reasoning, ...schedule };
    case 'http':
      return { kind: 'http', path: merged.path!, expectedStatus: merged.expectedStatus, sendHeaders: merged.sendHeaders, ...schedule };
  }
}

function probeProblem(probe: ProbeConfig): string | undefined {
  if (probe.timeoutMs >= probe.intervalMs) {
    return `probe timeoutMs (${probe.timeoutMs}) must be shorter than intervalMs (${probe.intervalMs})`;
  }
  if (probe.kind === 'http' && probe.path === undefined) return 'an http probe needs a path, e.g. path: /health';
  return undefined;
}

/** zod gives absent optional fields as undefined; those must not override a default. */
function definedFields(overrides: ProbeOverrides | undefined): ProbeOverrides {
  if (overrides === undefined) return {};
  return Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined)) as ProbeOverrides;
}
