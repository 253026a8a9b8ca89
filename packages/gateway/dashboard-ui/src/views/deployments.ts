import { getJson } from '../api.js';
import { formatMs, formatNumber, formatPercent, formatUsd, h, table } from '../dom.js';
import { Sparkline } from '../sparkline.js';
import type { View } from '../view.js';

interface Deployment {
  id: string;
  model: string;
  backend: string;
  configuredWeight: number;
  weight: number;
  health: { state: string; score: number } | null;
  circuit: { state: string; reason: string | null; openedAt: number | null; remainingMs: number | null };
  inFlight: number;
  requestsPerSecond: number;
  errorRate: number;
  latencyMs: { mean: number | null; p50: number | null; p99: number | null };
  ttftMs: { mean: number | null; p50: number | null; p99: number | null };
  queueWait: { meanMs: number; requests: number } | null;
  costPerHourUsd: number;
  history: { time: number[]; requestsPerSecond: number[]; p99LatencyMs: (number | null)[] };
}

/** Every deployment, cluster-wide: the prober's view, the circuit, and the rolling window's figures. */
export function deploymentsView(): View {
  let body: HTMLElement | undefined;
  const charts = new Map<string, { rate: Sparkline; latency: Sparkline }>();
  return {
    title: 'Deployments',
    refreshMs: 1000,
    mount(container) {
      body = h('div', { class: 'deployments' });
      container.append(h('p', { class: 'hint' }, 'Cluster-wide, over the rolling window (60 s); sparklines: the last 15 minutes. Latencies are histogram bucket bounds.'), body);
    },
    async refresh() {
      const { data } = await getJson<{ data: Deployment[] }>('deployments');
      const rows = data.map((deployment) => {
        let chart = charts.get(deployment.id);
        if (!chart) {
          chart = { rate: new Sparkline(`${deployment.id} requests per second`, '#2563eb'), latency: new Sparkline(`${deployment.id} p99 latency`, '#d97706') };
          charts.set(deployment.id, chart);
        }
        chart.rate.update(deployment.history.time, deployment.history.requestsPerSecond);
        chart.latency.update(deployment.history.time, deployment.history.p99LatencyMs);
        const circuit = deployment.circuit;
        const circuitText = circuit.state === 'open' ? `open${circuit.remainingMs === null ? '' : ` (${Math.ceil(circuit.remainingMs / 1000)} s left)`}` : circuit.state.replace('_', '-');
        return h(
          'tr',
          { 'data-deployment': deployment.id, 'data-circuit': circuit.state },
          h('td', {}, h('strong', {}, deployment.id), h('div', { class: 'muted' }, `model ${deployment.model}`)),
          h('td', { class: `state state-${deployment.health?.state ?? 'unknown'}` }, deployment.health ? `${deployment.health.state} (${formatNumber(deployment.health.score, 2)})` : 'no probe'),
          h('td', {}, `${formatNumber(deployment.weight, 2)}`, h('div', { class: 'muted' }, `configured ${formatNumber(deployment.configuredWeight, 2)}`)),
          h('td', { class: `circuit circuit-${circuit.state}` }, circuitText, circuit.reason ? h('div', { class: 'muted' }, circuit.reason) : null),
          h('td', { class: 'number' }, String(deployment.inFlight)),
          h('td', { class: 'number' }, formatNumber(deployment.requestsPerSecond, 2)),
          h('td', { class: 'number' }, formatPercent(deployment.errorRate)),
          h('td', { class: 'number' }, `${formatMs(deployment.latencyMs.p50)} / ${formatMs(deployment.latencyMs.p99)}`),
          h('td', { class: 'number' }, `${formatMs(deployment.ttftMs.p50)} / ${formatMs(deployment.ttftMs.p99)}`),
          h('td', { class: 'number' }, deployment.queueWait ? `${formatMs(deployment.queueWait.meanMs)} (${deployment.queueWait.requests})` : '–'),
          h('td', { class: 'number' }, formatUsd(deployment.costPerHourUsd)),
          h('td', {}, chart.rate.element),
          h('td', {}, chart.latency.element),
        );
      });
      body?.replaceChildren(
        table(['Deployment', 'Health', 'Weight', 'Circuit', 'In flight', 'Req/s', 'Errors', 'Latency p50 / p99', 'TTFT p50 / p99', 'Queue wait', 'Cost / hour', 'Req/s (15 min)', 'p99 latency (15 min)'], rows, { id: 'deployments-table' }),
      );
    },
  };
}
