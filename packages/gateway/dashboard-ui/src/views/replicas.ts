import { getJson } from '../api.js';
import { formatDuration, formatTime, h, table } from '../dom.js';
import type { View } from '../view.js';

interface ReplicaInfo {
  id: string;
  role: 'gateway' | 'prober';
  version: string;
  configRevision: string;
  startedAt: number;
  redis: 'ok' | 'degraded';
  lastSeen: number;
  configReload?: { at: number; result: string; error?: string };
}

/** The live gateway replicas and probers, from their info records in Redis (embedded mode: this process). */
export function replicasView(): View {
  let body: HTMLElement | undefined;
  return {
    title: 'Replicas and probers',
    refreshMs: 1000,
    mount(container) {
      body = h('div');
      container.append(body);
    },
    async refresh() {
      const { data, self, revisions, at } = await getJson<{ data: ReplicaInfo[]; self: string; revisions: Record<string, string[]>; at: number }>('replicas');
      const rows = data.map((info) =>
        h(
          'tr',
          { 'data-replica': info.id, 'data-role': info.role },
          h('td', {}, info.id, info.id === self ? h('span', { class: 'muted' }, ' (this page)') : null),
          h('td', {}, info.role),
          h('td', {}, info.version),
          h('td', {}, h('code', {}, info.configRevision)),
          h('td', {}, formatDuration(at - info.startedAt)),
          h('td', { class: `redis redis-${info.redis}` }, info.redis),
          h('td', {}, info.configReload ? `${info.configReload.result} at ${formatTime(info.configReload.at)}${info.configReload.error ? `: ${info.configReload.error}` : ''}` : '–'),
        ),
      );
      const revisionCount = Object.keys(revisions).length;
      body?.replaceChildren(
        h('p', { class: revisionCount > 1 ? 'warning' : 'hint' }, revisionCount > 1 ? `${revisionCount} config revisions are running: a change is half rolled out.` : 'Every process runs the same config revision.'),
        table(['Id', 'Role', 'Version', 'Config revision', 'Uptime', 'Redis', 'Last reload'], rows, { id: 'replicas-table' }),
      );
    },
  };
}
