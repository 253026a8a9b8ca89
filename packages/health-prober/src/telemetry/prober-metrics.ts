import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { HEALTH_STATES } from '@dosrouter/shared';
import type { ProbeResult } from '../probes/probe-result.js';
import type { WeightsUpdate } from '../weights/weights-store.js';

/**
 * The prober's metrics: probe outcomes and latency, and the weight and state of every deployment as last
 * published. They register on the given registry: the prober process's own, or an embedded gateway's.
 */
export class ProberMetrics {
  private readonly probes: Counter<'deployment' | 'kind' | 'outcome'>;
  private readonly probeDuration: Histogram<'deployment' | 'kind'>;
  private readonly weight: Gauge<'deployment'>;
  private readonly state: Gauge<'deployment' | 'state'>;
  private readonly publications: Counter<'changed'>;
  private readonly circuitsClosed: Counter<'deployment'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.probes = new Counter({
      name: 'dosrouter_probes_total',
      help: 'Health probes run, by deployment, kind and outcome (ok or failed)',
      labelNames: ['deployment', 'kind', 'outcome'],
      registers,
    });
    this.probeDuration = new Histogram({
      name: 'dosrouter_probe_duration_seconds',
      help: 'Time from sending a health probe to its verdict',
      labelNames: ['deployment', 'kind'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.weight = new Gauge({
      name: 'dosrouter_routing_weight',
      help: 'Effective routing weight of each deployment in the last published table (0 = drained)',
      labelNames: ['deployment'],
      registers,
    });
    this.state = new Gauge({
      name: 'dosrouter_deployment_health_state',
      help: 'Health state of each deployment in the last published table: 1 for its current state, 0 for the others',
      labelNames: ['deployment', 'state'],
      registers,
    });
    this.publications = new Counter({
      name: 'dosrouter_weights_publications_total',
      help: 'Weights tables published; changed="true" when a weight or state changed and the table was announced',
      labelNames: ['changed'],
      registers,
    });
    this.circuitsClosed = new Counter({
      name: 'dosrouter_probe_circuits_closed_total',
      help: 'Open circuits closed early because a health probe succeeded',
      labelNames: ['deployment'],
      registers,
    });
  }

  recordProbe(deploymentId: string, kind: string, result: ProbeResult): void {
    this.probes.inc({ deployment: deploymentId, kind, outcome: result.ok ? 'ok' : 'failed' });
    this.probeDuration.observe({ deployment: deploymentId, kind }, result.latencyMs / 1000);
  }

  recordUpdate(update: WeightsUpdate): void {
    this.publications.inc({ changed: String(update.changed) });
    for (const [deploymentId, record] of update.health) {
      this.weight.set({ deployment: deploymentId }, record.weight);
      for (const state of HEALTH_STATES) this.state.set({ deployment: deploymentId, state }, state === record.state ? 1 : 0);
    }
  }

  recordCircuitClosed(deploymentId: string): void {
    this.circuitsClosed.inc({ deployment: deploymentId });
  }
}
