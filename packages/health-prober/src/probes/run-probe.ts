import { performance } from 'node:perf_hooks';
import { probeChat } from './chat-probe.js';
import { probeHttp } from './http-probe.js';
import { probeModels } from './models-probe.js';
import type { ProbeResult, ProbeTarget } from './probe-result.js';

/** What each probe kind needs beyond the deployment's ProbeTarget. */
export interface ProbeOptionsByKind {
  readonly models: Readonly<Record<never, never>>;
  readonly chat: {
    /** Give the model a reasoning budget (max_completion_tokens, reasoning_effort). Default false. */
    readonly reasoning?: boolean;
  };
  readonly http: {
    /** Absolute URL, or a path resolved against the target's baseUrl ("/health" is at the server root). */
    readonly path: string;
    readonly expectedStatus: number;
    /** Send the target's headers, credential included, to this URL. Default false: health endpoints rarely want it. */
    readonly sendHeaders?: boolean;
  };
}

export type ProbeKind = keyof ProbeOptionsByKind;

type RunProbeArguments = {
  [Kind in ProbeKind]: [kind: Kind, target: ProbeTarget, options: ProbeOptionsByKind[Kind], clock?: () => number];
}[ProbeKind];

/**
 * Runs one probe of one deployment, whatever its kind, so the worker needs a single call. The options' type follows
 * the kind: `runProbe('http', target, { path: '/health', expectedStatus: 200 })`. Chat results carry `ttftMs` too.
 */
export async function runProbe(
  ...[kind, target, options, clock = () => performance.now()]: RunProbeArguments
): Promise<ProbeResult & { readonly ttftMs?: number }> {
  switch (kind) {
    case 'models':
      return probeModels(target, clock);
    case 'chat':
      return probeChat({ ...target, reasoning: options.reasoning === true }, clock);
    case 'http':
      return probeHttp(
        {
          baseUrl: target.baseUrl,
          path: options.path,
          expectedStatus: options.expectedStatus,
          timeoutMs: target.timeoutMs,
          ...(options.sendHeaders === true ? { headers: target.headers } : {}),
        },
        clock,
      );
  }
}
