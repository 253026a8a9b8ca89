import { postJson } from '../api.js';
import { h } from '../dom.js';
import type { View } from '../view.js';

const EXAMPLE = JSON.stringify({ model: 'auto', messages: [{ role: 'user', content: 'Summarise the plot of Hamlet in two sentences.' }] }, null, 2);

/** Paste a chat completion request, see the routing decision (as `POST /v1/router/explain`, without a client key). */
export function explainView(): View {
  return {
    title: 'Explain',
    refreshMs: 0,
    mount(container) {
      const input = h('textarea', { id: 'explain-input', rows: 12, spellcheck: false });
      input.value = EXAMPLE;
      const output = h('pre', { id: 'explain-output', class: 'json' });
      const button = h('button', { type: 'button', id: 'explain-button' }, 'Explain');
      button.addEventListener('click', () => {
        output.textContent = '…';
        postJson<unknown>('explain', input.value).then(
          (explanation) => (output.textContent = JSON.stringify(explanation, null, 2)),
          (error: Error) => (output.textContent = error.message),
        );
      });
      container.append(
        h('p', { class: 'hint' }, 'A chat completion request body; nothing is sent to a backend. The decision is made on this replica’s snapshot, as the request would be.'),
        input,
        h('div', {}, button),
        output,
      );
    },
    async refresh() {},
  };
}
