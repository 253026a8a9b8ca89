import { invalidRequest, isRecord } from '@dosrouter/shared';

/**
 * Readers of a Chat Completions request's fields that every egress translation (Messages, Gemini, Responses) needs
 * the same way: each throws a 400 GatewayError naming the field when the value is not what Chat Completions allows.
 */

export function stringAt(value: unknown, param: string): string {
  if (typeof value !== 'string') throw invalidRequest(`\`${param}\` must be a string.`, param, 'invalid_type');
  return value;
}

/** `max_completion_tokens`, else `max_tokens`; undefined when the request sets neither. */
export function maxTokensOf(body: Record<string, unknown>): number | undefined {
  for (const name of ['max_completion_tokens', 'max_tokens'] as const) {
    const value = body[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw invalidRequest(`\`${name}\` must be a positive integer.`, name, 'invalid_value');
    return value;
  }
  return undefined;
}

/** `data:<media type>[;parameters];base64,<data>`. The data is not copied out of the string until sliced. */
export function parseDataUrl(url: string): { mediaType: string; data: string } | undefined {
  const comma = url.indexOf(',');
  if (!url.startsWith('data:') || comma === -1) return undefined;
  const header = url.slice(5, comma).split(';');
  if (header[header.length - 1]?.toLowerCase() !== 'base64') return undefined;
  return { mediaType: header[0]!.toLowerCase(), data: url.slice(comma + 1) };
}

/** A call's `arguments` (a JSON text) as the object the other protocols want; `{}` when empty. */
export function callArguments(text: unknown, param: string): Record<string, unknown> {
  if (text === undefined || text === null || text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(stringAt(text, param));
  } catch {
    throw invalidRequest(`\`${param}\` is not valid JSON.`, param, 'invalid_value');
  }
  if (!isRecord(value)) throw invalidRequest(`\`${param}\` must be a JSON object.`, param, 'invalid_value');
  return value;
}

/**
 * A Chat user message's `content` in another protocol's parts: a string as one text part (none when empty), an array
 * part by part through `translate` (which drops a part by answering undefined).
 */
export function userContentParts<T>(content: unknown, param: string, text: (text: string) => T, translate: (part: unknown, param: string) => T | undefined): T[] {
  if (typeof content === 'string') return content === '' ? [] : [text(content)];
  if (content === undefined || content === null) return [];
  return (content as unknown[]).flatMap((part, index) => {
    const translated = translate(part, `${param}[${index}]`);
    return translated === undefined ? [] : [translated];
  });
}
