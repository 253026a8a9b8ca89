import { getJson } from '../api.js';
import { formatMs, formatNumber, formatTime, formatUsd, h, table } from '../dom.js';
import type { View } from '../view.js';

interface RecentRequest {
  id: string;
  replica: string;
  at: number;
  route: string;
  status: number;
  requestedModel: string | null;
  model: string | null;
  deployment: string | null;
  tier: string | null;
  rule: string | null;
  strategy: string | null;
  stream: boolean;
  attempts: { deployment: string; outcome: string }[];
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  latencyMs: number;
  ttftMs: number | null;
  queueWaitMs: number | null;
  keyId: string | null;
  keyName: string | null;
  errorCode: string | null;
  prompt?: string;
}

interface Routing {
  target: { kind: string; name: string };
  rule: string | null;
  strategy: string;
  classification: { tier: string; confidence: number; reasons: string[] } | null;
  steps: { model: string; source: string; strategy: string; candidates: { deployment: string; passed: boolean; filter: string | null; reason: string | null }[]; order: string[] }[];
  planned: string[];
  session: string | null;
  keptDrained: boolean;
  economized: boolean;
}

/** The cluster's recent requests, newest first; clicking one shows how it was routed. */
export function requestsView(): View {
  let list: HTMLElement | undefined;
  let detail: HTMLElement | undefined;
  let selected: string | undefined;
  const open = async (entry: RecentRequest): Promise<void> => {
    selected = `${entry.replica}/${entry.id}`;
    const full = await getJson<RecentRequest & { routing: Routing | null }>(`requests/${encodeURIComponent(entry.replica)}/${encodeURIComponent(entry.id)}`);
    detail?.replaceChildren(explanationOf(full));
  };
  return {
    title: 'Recent requests',
    refreshMs: 1000,
    mount(container) {
      list = h('div', { class: 'requests-list' });
      detail = h('aside', { id: 'request-detail', class: 'detail' }, h('p', { class: 'hint' }, 'Click a request to see how it was routed.'));
      container.append(h('div', { class: 'split' }, list, detail));
    },
    async refresh() {
      const { data } = await getJson<{ data: RecentRequest[] }>('requests');
      const rows = data.map((entry) => {
        const row = h(
          'tr',
          { 'data-request-id': entry.id, 'data-replica': entry.replica, class: `clickable${selected === `${entry.replica}/${entry.id}` ? ' selected' : ''}${entry.status >= 400 ? ' failed' : ''}`, tabindex: 0 },
          h('td', {}, formatTime(entry.at).slice(11)),
          h('td', {}, entry.replica),
          h('td', {}, entry.requestedModel ?? '–', entry.model && entry.model !== entry.requestedModel ? h('div', { class: 'muted' }, `→ ${entry.model}`) : null),
          h('td', {}, entry.deployment ?? '–'),
          h('td', {}, [entry.tier, entry.rule, entry.strategy].filter((part) => part).join(' · ') || '–'),
          h('td', {}, ...entry.attempts.map((attempt) => h('div', { class: attempt.outcome === 'ok' ? 'ok' : 'error' }, `${attempt.deployment}: ${attempt.outcome}`))),
          h('td', { class: 'number' }, String(entry.status)),
          h('td', { class: 'number' }, `${formatNumber(entry.promptTokens, 0)} / ${formatNumber(entry.completionTokens, 0)}`),
          h('td', { class: 'number' }, formatUsd(entry.costUsd)),
          h('td', { class: 'number' }, formatMs(entry.latencyMs)),
          h('td', { class: 'number' }, formatMs(entry.ttftMs)),
          h('td', {}, entry.keyName ?? (entry.keyId ? entry.keyId : '–')),
        );
        row.addEventListener('click', () => void open(entry));
        row.addEventListener('keydown', (event) => {
          if (event.key === 'Enter') void open(entry);
        });
        return row;
      });
      list?.replaceChildren(table(['Time (UTC)', 'Replica', 'Model asked / served', 'Deployment', 'Tier · rule · strategy', 'Attempts', 'Status', 'Tokens in / out', 'Cost', 'Latency', 'TTFT', 'Key'], rows, { id: 'requests-table' }));
    },
  };
}

function explanationOf(entry: RecentRequest & { routing: Routing | null }): HTMLElement {
  const routing = entry.routing;
  return h(
    'div',
    { class: 'explanation', 'data-request-id': entry.id },
    h('h2', {}, `Request ${entry.id}`),
    h('p', {}, `${entry.route} on ${entry.replica}, status ${entry.status}${entry.errorCode ? ` (${entry.errorCode})` : ''}`),
    entry.prompt !== undefined ? h('blockquote', { class: 'prompt' }, entry.prompt) : null,
    routing
      ? h(
          'div',
          {},
          h('h3', {}, 'Routing'),
          h('p', {}, `Target ${routing.target.kind} ${routing.target.name}; rule ${routing.rule ?? 'none'}; strategy ${routing.strategy}`),
          routing.classification ? h('p', {}, `Tier ${routing.classification.tier} (confidence ${routing.classification.confidence}): ${routing.classification.reasons.join('; ')}`) : null,
          ...routing.steps.map((step) =>
            h(
              'div',
              { class: 'step' },
              h('h4', {}, `${step.model} (${step.source}, ${step.strategy})`),
              table(
                ['Candidate', 'Verdict'],
                step.candidates.map((candidate) =>
                  h('tr', {}, h('td', {}, candidate.deployment), h('td', { class: candidate.passed ? 'ok' : 'error' }, candidate.passed ? 'kept' : `filtered: ${candidate.filter ?? ''}${candidate.reason ? ` (${candidate.reason})` : ''}`)),
                ),
              ),
              h('p', {}, `Order: ${step.order.join(' → ') || '–'}`),
            ),
          ),
          h('p', {}, `Planned attempts: ${routing.planned.join(' → ') || 'none'}`),
          h('p', {}, `Attempts made: ${entry.attempts.map((attempt) => `${attempt.deployment} (${attempt.outcome})`).join(' → ') || 'none'}`),
          routing.session ? h('p', {}, `Session ${routing.session}`) : null,
          routing.keptDrained ? h('p', { class: 'warning' }, 'Every deployment was drained; they were kept.') : null,
          routing.economized ? h('p', { class: 'warning' }, 'Routed on the eco profile: the key is past its soft budget.') : null,
        )
      : h('p', {}, 'This request was not routed (it failed before a plan was made).'),
  );
}
