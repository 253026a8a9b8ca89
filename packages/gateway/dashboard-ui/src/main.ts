import { LoggedOut } from './api.js';
import type { View } from './view.js';
import { deploymentsView } from './views/deployments.js';
import { explainView } from './views/explain.js';
import { keysView } from './views/keys.js';
import { replicasView } from './views/replicas.js';
import { requestsView } from './views/requests.js';

const VIEWS: Record<string, () => View> = {
  deployments: deploymentsView,
  replicas: replicasView,
  requests: requestsView,
  keys: keysView,
  explain: explainView,
};

const container = document.getElementById('view')!;
const status = document.getElementById('status')!;
let timer: number | undefined;
/** Bumped on every view change, so that a refresh of the previous view that lands late draws nothing. */
let generation = 0;

/** Shows the view the address names (#deployments by default) and refreshes it at its pace, one refresh at a time. */
function show(): void {
  const name = location.hash.slice(1) in VIEWS ? location.hash.slice(1) : 'deployments';
  const view = VIEWS[name]!();
  generation += 1;
  const current = generation;
  window.clearTimeout(timer);
  for (const link of document.querySelectorAll<HTMLAnchorElement>('nav a')) link.classList.toggle('active', link.dataset.view === name);
  document.title = `${view.title} · DOSRouter`;
  container.replaceChildren();
  container.dataset.view = name;
  view.mount(container);
  const tick = async (): Promise<void> => {
    if (current !== generation) return;
    try {
      await view.refresh();
      status.textContent = `updated ${new Date().toLocaleTimeString()}`;
      status.classList.remove('error');
    } catch (error) {
      if (error instanceof LoggedOut) {
        location.assign('/dashboard/login');
        return;
      }
      status.textContent = `refresh failed: ${(error as Error).message}`;
      status.classList.add('error');
    }
    if (view.refreshMs > 0 && current === generation) timer = window.setTimeout(() => void tick(), view.refreshMs);
  };
  void tick();
}

window.addEventListener('hashchange', show);
show();
