import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COLON, COMMA, OPEN_BRACE, OPEN_BRACKET, QUOTE } from '../validation/json-bytes.js';

/** Where one top-level member's value lies in the raw body: bytes [start, end). */
export interface ValueSpan {
  readonly start: number;
  readonly end: number;
}

/** The values of the top-level members the gateway rewrites, each name's in order (JSON allows a name twice). */
export interface TopLevelMembers {
  readonly model: readonly ValueSpan[];
  readonly streamOptions: readonly ValueSpan[];
}

const isWhitespace = (byte: number): boolean => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/** The index just past the string whose opening quote is at `quote`: a native search for each candidate quote. */
function skipString(raw: Buffer, quote: number): number {
  let index = quote + 1;
  for (;;) {
    const close = raw.indexOf(QUOTE, index);
    if (close === -1) throw new SyntaxError('unterminated string');
    let backslashes = 0;
    for (let before = close - 1; raw[before] === BACKSLASH; before -= 1) backslashes += 1;
    if (backslashes % 2 === 0) return close + 1;
    index = close + 1;
  }
}

/** The index just past the value that starts at `start` (an object, array, string or literal). */
function skipValue(raw: Buffer, start: number): number {
  const first = raw[start];
  if (first === QUOTE) return skipString(raw, start);
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    let index = start;
    while (index < raw.length) {
      const byte = raw[index]!;
      if (byte === COMMA || byte === CLOSE_BRACE || byte === CLOSE_BRACKET || isWhitespace(byte)) break;
      index += 1;
    }
    return index;
  }
  let depth = 0;
  let index = start;
  while (index < raw.length) {
    const byte = raw[index]!;
    if (byte === QUOTE) {
      index = skipString(raw, index);
      continue;
    }
    if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth += 1;
    else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth -= 1;
      if (depth === 0) return index + 1;
    }
    index += 1;
  }
  throw new SyntaxError('unterminated value');
}

function skipWhitespace(raw: Buffer, index: number): number {
  while (index < raw.length && isWhitespace(raw[index]!)) index += 1;
  return index;
}

/**
 * Finds the values of the top-level `model` and `stream_options` members of a JSON object body that JSON.parse has
 * already accepted, without parsing anything: strings are skipped with a native search, nested values by counting
 * brackets. A key written with escapes (`"mod\u0065l"`) is decoded before it is compared.
 */
export function topLevelMembers(raw: Buffer): TopLevelMembers {
  const model: ValueSpan[] = [];
  const streamOptions: ValueSpan[] = [];
  let index = skipWhitespace(raw, 0);
  if (raw[index] !== OPEN_BRACE) throw new SyntaxError('not an object');
  index = skipWhitespace(raw, index + 1);
  while (raw[index] === QUOTE) {
    const keyEnd = skipString(raw, index);
    const rawKey = raw.toString('latin1', index + 1, keyEnd - 1);
    const key = rawKey.includes('\\') ? (JSON.parse(raw.toString('utf8', index, keyEnd)) as string) : rawKey;
    index = skipWhitespace(raw, keyEnd);
    if (raw[index] !== COLON) throw new SyntaxError('expected a colon');
    const start = skipWhitespace(raw, index + 1);
    const end = skipValue(raw, start);
    if (key === 'model') model.push({ start, end });
    else if (key === 'stream_options') streamOptions.push({ start, end });
    index = skipWhitespace(raw, end);
    if (raw[index] !== COMMA) break;
    index = skipWhitespace(raw, index + 1);
  }
  return { model, streamOptions };
}

/**
 * The body to send upstream, made from the client's bytes: every top-level `model` value (JSON.parse took the last
 * one; the backend might take any) becomes `upstreamModel`, and with `streamOptions` every `stream_options` value
 * becomes it, or it is added when the client sent none. Everything else passes through as the client wrote it,
 * never re-serialised.
 */
export function rewriteBody(raw: Buffer, members: TopLevelMembers, upstreamModel: string, streamOptions: object | undefined): Buffer {
  const replacements: { span: ValueSpan; text: string }[] = members.model.map((span) => ({ span, text: JSON.stringify(upstreamModel) }));
  if (streamOptions) {
    const text = JSON.stringify(streamOptions);
    if (members.streamOptions.length > 0) for (const span of members.streamOptions) replacements.push({ span, text });
    else {
      // Added after the last model member: an insertion is a replacement of nothing.
      const last = members.model[members.model.length - 1]!;
      replacements.push({ span: { start: last.end, end: last.end }, text: `,"stream_options":${text}` });
    }
  }
  replacements.sort((left, right) => left.span.start - right.span.start);
  const parts: Buffer[] = [];
  let cursor = 0;
  for (const { span, text } of replacements) {
    parts.push(raw.subarray(cursor, span.start), Buffer.from(text, 'utf8'));
    cursor = span.end;
  }
  parts.push(raw.subarray(cursor));
  return Buffer.concat(parts);
}
