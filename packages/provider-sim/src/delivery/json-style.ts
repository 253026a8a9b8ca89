/**
 * How the simulator writes its JSON. `compact` (the default) is what OpenAI sends: `{"a":1,"b":[1,2]}`. `spaced`
 * is what Python servers send with `json.dumps` defaults: `{"a": 1, "b": [1, 2]}`, still one line. `indented`
 * spreads every value over its own line (two-space indent); in a stream such an event goes out as several `data:`
 * lines, which SSE joins with "\n".
 */
export const JSON_STYLES = ['compact', 'spaced', 'indented'] as const;
export type JsonStyle = (typeof JSON_STYLES)[number];

/** The JSON text of a value in the given style. */
export function formatJson(value: unknown, style: JsonStyle): string {
  switch (style) {
    case 'compact':
      return JSON.stringify(value);
    case 'spaced':
      return spacedJson(value);
    case 'indented':
      return JSON.stringify(value, null, 2);
  }
}

/**
 * Re-writes an event payload in the given style. Payloads that are not JSON (`[DONE]`, the malformed_chunk fault's
 * broken event) go out unchanged.
 */
export function restylePayload(payload: string, style: JsonStyle): string {
  if (style === 'compact' || payload.charCodeAt(0) !== 0x7b) return payload;
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return payload;
  }
  return formatJson(value, style);
}

/** Python's `json.dumps` layout: ", " between items, ": " after keys, no space inside brackets. */
function spacedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => spacedJson(item ?? null)).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, item]) => item !== undefined);
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}: ${spacedJson(item)}`).join(', ')}}`;
  }
  return JSON.stringify(value);
}
