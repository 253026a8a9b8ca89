/** Children an element can be built with: nodes, text (always as text, never parsed as HTML), or nothing. */
export type Child = Node | string | number | null | undefined | false;

/**
 * Builds an element. Attributes are set with setAttribute and text with text nodes: nothing a backend or a client
 * sent (model names, error codes, prompts) is ever parsed as HTML.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | number | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** A table with a header row and the given rows. */
export function table(headers: readonly string[], rows: readonly HTMLTableRowElement[], attributes: Record<string, string> = {}): HTMLTableElement {
  return h('table', attributes, h('thead', {}, h('tr', {}, ...headers.map((header) => h('th', {}, header)))), h('tbody', {}, ...rows));
}

export function formatNumber(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined) return '–';
  return value.toLocaleString('en-US', { maximumFractionDigits: digits });
}

export function formatMs(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : `${formatNumber(value, value < 10 ? 2 : 0)} ms`;
}

export function formatPercent(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : `${formatNumber(value * 100, 1)} %`;
}

export function formatUsd(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  return `$${value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: value < 1 ? 6 : 2 })}`;
}

export function formatTime(epochMs: number | null | undefined): string {
  return epochMs === null || epochMs === undefined ? '–' : new Date(epochMs).toISOString().replace('T', ' ').slice(0, 19);
}

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${minutes}m`;
  return `${minutes}m ${seconds % 60}s`;
}
