import { weightedDeployments, type BackendConfig, type Deployment, type GatewayConfig, type Logger } from '@dosrouter/shared';
import { DeploymentProber, type CircuitCloser } from './deployment-prober.js';
import { EmbeddedProber } from './embedded-prober.js';
import { probePlans } from './probe-plan.js';
import type { ProberMetrics } from './telemetry/prober-metrics.js';
import { WeightsKeeper, type StatsReader } from './weights/weights-keeper.js';
import { MemoryWeightsStore, type WeightsUpdate } from './weights/weights-store.js';

export interface EmbeddedProbingOptions {
  readonly config: Pick<GatewayConfig, 'backends' | 'prober'>;
  readonly deployments: readonly Deployment[];
  /** Where each backend is, simulators the gateway started included. */
  readonly baseUrlOf: (backend: BackendConfig) => string | undefined;
  /** The gateway's own rolling stats. */
  readonly readStats: StatsReader;
  /** Every table computed, for the gateway's routing snapshot. */
  readonly onPublish: (update: WeightsUpdate) => void;
  readonly closeCircuit: CircuitCloser;
  /** The prober's metrics on the gateway's registry (its /metrics): one set for every prober a reload starts. */
  readonly metrics: ProberMetrics;
  readonly logger: Logger;
}

/**
 * The prober inside an embedded gateway: the same plans, probes, weights engine and metrics as the prober process,
 * on timers and a memory store instead of BullMQ and Redis. Returns the started prober; close it on shutdown.
 */
export function startEmbeddedProbing(options: EmbeddedProbingOptions): EmbeddedProber {
  const { plans } = probePlans(options.deployments, options.config.backends, options.baseUrlOf);
  const keeper = new WeightsKeeper({
    deployments: weightedDeployments(options.deployments),
    store: new MemoryWeightsStore(options.onPublish),
    readStats: options.readStats,
  });
  const prober = new DeploymentProber({
    keeper,
    logger: options.logger,
    metrics: options.metrics,
    closeCircuit: options.closeCircuit,
  });
  const embedded = new EmbeddedProber({ plans, prober, recomputeIntervalMs: options.config.prober.recomputeIntervalMs, logger: options.logger });
  embedded.start();
  return embedded;
}
