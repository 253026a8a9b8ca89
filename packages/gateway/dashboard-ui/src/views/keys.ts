import uPlot from 'uplot';
import { getJson } from '../api.js';
import { formatNumber, formatTime, formatUsd, h, table } from '../dom.js';
import type { View } from '../view.js';

interface KeyView {
  id: string;
  name: string;
  preview: string;
  revoked: boolean;
  lastUsedAt: number | null;
  spend: { todayUsd: number; monthUsd: number; dailyBudgetUsd: number | null; monthlyBudgetUsd: number | null };
  limits: { requestsPerMinute: number | null; tokensPerMinute: number | null; concurrency: number | null };
  window: { requests: number; tokens: number } | null;
}

const PALETTE = ['#2563eb', '#d97706', '#059669', '#dc2626', '#7c3aed', '#0891b2', '#65a30d', '#db2777'];

/** Each key's spend against its budgets and its rate-limit use; per model, the cost of each of the last 30 days. */
export function keysView(): View {
  let keysBody: HTMLElement | undefined;
  let chartBody: HTMLElement | undefined;
  let chart: uPlot | undefined;
  let chartModels = '';
  return {
    title: 'Keys and spend',
    refreshMs: 1000,
    mount(container) {
      keysBody = h('div');
      chartBody = h('div', { id: 'spend-chart', class: 'chart' });
      container.append(h('h2', {}, 'Keys'), keysBody, h('h2', {}, 'Cost per model per day (last 30 days, UTC)'), chartBody);
    },
    async refresh() {
      const [{ data }, spend] = await Promise.all([getJson<{ data: KeyView[] }>('keys'), getJson<{ days: string[]; models: { model: string; costUsd: number[] }[] }>('spend')]);
      const rows = data.map((key) =>
        h(
          'tr',
          { 'data-key-id': key.id, class: key.revoked ? 'revoked' : undefined },
          h('td', {}, key.name, h('div', { class: 'muted' }, `${key.id} · ${key.preview}…${key.revoked ? ' · revoked' : ''}`)),
          h('td', { class: 'number', 'data-spend-today': key.spend.todayUsd }, formatUsd(key.spend.todayUsd), budget(key.spend.todayUsd, key.spend.dailyBudgetUsd)),
          h('td', { class: 'number', 'data-spend-month': key.spend.monthUsd }, formatUsd(key.spend.monthUsd), budget(key.spend.monthUsd, key.spend.monthlyBudgetUsd)),
          h('td', { class: 'number' }, use(key.window?.requests, key.limits.requestsPerMinute)),
          h('td', { class: 'number' }, use(key.window?.tokens, key.limits.tokensPerMinute)),
          h('td', {}, formatTime(key.lastUsedAt)),
        ),
      );
      keysBody?.replaceChildren(
        rows.length === 0 ? h('p', { class: 'hint' }, 'No client keys: the gateway runs open, or none was created yet.') : table(['Key', 'Today', 'This month', 'Requests this minute', 'Tokens this minute', 'Last used (UTC)'], rows, { id: 'keys-table' }),
      );
      drawChart(spend);
    },
  };

  function drawChart(spend: { days: string[]; models: { model: string; costUsd: number[] }[] }): void {
    if (!chartBody) return;
    const time = spend.days.map((day) => Date.parse(`${day}T00:00:00Z`) / 1000);
    const data = [time, ...spend.models.map((model) => model.costUsd)] as uPlot.AlignedData;
    const models = spend.models.map((model) => model.model).join('\n');
    if (chart && models === chartModels) {
      chart.setData(data);
      return;
    }
    chart?.destroy();
    chartModels = models;
    chart = new uPlot(
      {
        width: Math.max(480, Math.min(1100, chartBody.clientWidth || 900)),
        height: 260,
        scales: { x: { time: true }, y: { range: (_self, _min, max) => [0, Math.max(max ?? 0, 1e-6)] } },
        axes: [{}, { values: (_self, ticks) => ticks.map((tick) => `$${formatNumber(tick, 6)}`), size: 80 }],
        series: [{ label: 'Day' }, ...spend.models.map((model, index) => ({ label: model.model, stroke: PALETTE[index % PALETTE.length], width: 2, value: (_self: uPlot, value: number | null) => formatUsd(value) }))],
      },
      data,
      chartBody,
    );
  }
}

function budget(spent: number, limit: number | null): HTMLElement | null {
  if (limit === null) return h('div', { class: 'muted' }, 'no budget');
  const share = limit === 0 ? 1 : spent / limit;
  return h('div', { class: share >= 1 ? 'error' : share >= 0.8 ? 'warning' : 'muted' }, `of ${formatUsd(limit)} (${formatNumber(share * 100, 0)} %)`);
}

function use(used: number | undefined, limit: number | null): string {
  if (limit === null) return used === undefined ? 'no limit' : `${formatNumber(used, 0)} (no limit)`;
  return used === undefined ? `– of ${formatNumber(limit, 0)}` : `${formatNumber(used, 0)} of ${formatNumber(limit, 0)}`;
}
