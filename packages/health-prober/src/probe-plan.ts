import { backendHeaders, type BackendConfig, type Deployment, type ProbeSettings } from '@dosrouter/shared';
import type { ProbeResult, ProbeTarget } from './probes/probe-result.js';
import { runProbe } from './probes/run-probe.js';

/** One deployment the prober checks: how (its settings) and where (its target, credential included: never log it). */
export interface ProbePlan {
  readonly deploymentId: string;
  readonly settings: ProbeSettings;
  readonly target: ProbeTarget;
}

export interface SkippedDeployment {
  readonly deploymentId: string;
  readonly reason: string;
}

export interface ProbePlans {
  readonly plans: ProbePlan[];
  /** Deployments with probing on that this process cannot reach, with why. */
  readonly skipped: SkippedDeployment[];
}

/**
 * The probes to run. `baseUrlOf` says where a backend is: its `baseUrl`, or for a simulated backend the address of
 * the simulator the gateway started (embedded mode only; a separate prober process cannot see those).
 */
export function probePlans(
  deployments: readonly Deployment[],
  backends: readonly BackendConfig[],
  baseUrlOf: (backend: BackendConfig) => string | undefined = (backend) => backend.baseUrl,
): ProbePlans {
  const byName = new Map(backends.map((backend) => [backend.name, backend] as const));
  const plans: ProbePlan[] = [];
  const skipped: SkippedDeployment[] = [];
  for (const deployment of deployments) {
    if (deployment.probe === undefined) continue;
    const backend = byName.get(deployment.backend);
    const baseUrl = backend && baseUrlOf(backend);
    if (backend === undefined || baseUrl === undefined) {
      skipped.push({ deploymentId: deployment.id, reason: 'its backend is a simulator inside each gateway, which a separate prober cannot reach' });
      continue;
    }
    plans.push({
      deploymentId: deployment.id,
      settings: deployment.probe,
      target: {
        baseUrl,
        kind: backend.kind,
        headers: backendHeaders(backend),
        query: backend.query,
        upstreamModel: deployment.upstreamModel,
        timeoutMs: deployment.probe.timeoutMs,
      },
    });
  }
  return { plans, skipped };
}

/** Runs a plan's probe, whatever its kind. */
export function runPlannedProbe(plan: ProbePlan): Promise<ProbeResult & { ttftMs?: number }> {
  const { settings, target } = plan;
  switch (settings.kind) {
    case 'models':
      return runProbe('models', target, {});
    case 'chat':
      return runProbe('chat', target, { reasoning: settings.reasoning });
    case 'http':
      return runProbe('http', target, { path: settings.path, expectedStatus: settings.expectedStatus, sendHeaders: settings.sendHeaders });
  }
}
