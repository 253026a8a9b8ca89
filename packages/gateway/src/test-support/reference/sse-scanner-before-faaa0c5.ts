/**
 * A reference copy, for differential tests only: `SseScanner` as it was before faaa0c5 (no `pushOneEvent` fast path;
 * every chunk takes the general path). Not built into dist (src/test-support is excluded). Do not edit to follow the
 * live scanner: its point is to be the old behaviour the fast path must reproduce byte for byte.
 */
import { usageFromResponse, type TokenUsage } from '../../usage/token-usage.js';


/** A content token: non-empty text, reasoning text, or tool-call arguments in a chunk. */
const TOKEN_PATTERN = /"(?:content|text|reasoning_content|reasoning|arguments|refusal)"\s*:\s*"[^"]/;
/** Tool calls announced (the first chunk of a call may carry only its name). */
const TOOL_CALLS_PATTERN = /"tool_calls"\s*:\s*\[\s*\{/;
const FINISH_PATTERN = /"finish_reason"\s*:\s*"/;
const CONTENT_FILTER_PATTERN = /"finish_reason"\s*:\s*"content_filter"/;
/**
 * A key `usage` with an object value; a key `error` with an object or a string value (TGI sends a string). Inside a
 * JSON string every quote is escaped, so these find keys only, whatever the spacing or line breaks: answer text about
 * "usage" does not match, nor the `"usage":null` OpenAI adds to every chunk. A nested key of that name does; the
 * event is then parsed to check the key is a top-level one.
 */
const USAGE_PATTERN = /"usage"\s*:\s*\{/;
const ERROR_PATTERN = /"error"\s*:\s*[{"]/;

/** The same keys as bytes, for the events after the first token (see {@link SseScanner}). */
const FINISH_KEY = Buffer.from('"finish_reason"');
const CONTENT_FILTER_VALUE = Buffer.from('"content_filter"');
const USAGE_KEY = Buffer.from('"usage"');
const ERROR_KEY = Buffer.from('"error"');
const DATA_FIELD = Buffer.from('data:');
const DONE_DATA = Buffer.from('[DONE]');
const EVENT_END_LF = Buffer.from('\n\n');

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const COLON = 0x3a;
const QUOTE = 0x22;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** What the scanner tells its observer of each JSON event it forwards (see {@link SseScanner} `onEvent`). */
export type EventObserver = (data: Buffer) => void;

/**
 * Scans an OpenAI server-sent-event stream as it passes through, on its bytes: it cuts the stream at event
 * boundaries (so a client never receives half an event), notes the first token, a finish reason, `[DONE]`, the usage
 * chunk and error events, and can drop the usage-only chunk the gateway asked for on the client's behalf.
 *
 * What `push` returns is the backend's own bytes: the chunk itself when it ends at an event boundary and nothing in
 * it is left out (the usual case: one event per chunk), a view of it when it ends mid-event, and a copy only when an
 * event is cut out (the usage-only chunk, a held `[DONE]`) or an event spans two chunks. Line endings are the
 * backend's (LF, CRLF or CR, as the SSE specification allows).
 *
 * Until the first token, each event is decoded and read with whitespace-tolerant patterns (spaced and pretty-printed
 * JSON read the same). After it, a single-line `data:` event is only searched, in one pass over its bytes, for the
 * keys `"finish_reason"`, `"usage"` and `"error"` with their values' first bytes checked (`scanKeys`), and is parsed
 * only when it carries a usage object or an error: the `"usage":null` and `"finish_reason":null` OpenAI adds to
 * every chunk cost no decoding. Multi-line events (pretty-printed JSON) are decoded and read with the patterns.
 */
export class ReferenceSseScanner {
  firstTokenSeen = false;
  finishSeen = false;
  doneSeen = false;
  errorSeen = false;
  /** A choice finished with `content_filter`. */
  contentFilterSeen = false;
  /**
   * An event whose data is neither JSON-looking nor [DONE]: it and everything after it are not forwarded (with
   * `skipMalformed`, only it is left out; `malformedEvents` counts them).
   */
  malformedSeen = false;
  malformedEvents = 0;
  usage: TokenUsage | undefined;
  /** Bytes `push` has returned so far: what the caller forwards. */
  forwardedBytes = 0;
  /** The bytes of an event not complete yet (an event split across chunks), undefined when there are none. */
  private pending: Buffer | undefined;

  constructor(
    private readonly dropUsageOnlyChunk: boolean,
    private readonly options: {
      /** Leave `[DONE]` out of the forwarded events (the caller sends it once it is ready to end). */
      readonly holdDone?: boolean;
      /**
       * Told the data of each JSON event that is to be forwarded, in order (a view of the backend's bytes, valid
       * during the call only as a view: copy what must outlive it). Events held before the first token are told as
       * they are read; when the attempt fails over, none of them reached the client. Not told: `[DONE]`, comments,
       * the dropped usage-only chunk, a malformed event.
       */
      readonly onEvent?: EventObserver;
      /** Leave a malformed event out and go on with the events after it (a recoverable stream tries that first). */
      readonly skipMalformed?: boolean;
    } = {},
  ) {}

  /** Feeds upstream bytes; returns the complete events to forward now, undefined when none are complete yet. */
  push(chunk: Buffer): Buffer | undefined {
    let bytes = chunk;
    if (this.pending !== undefined) {
      bytes = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    const hasCr = bytes.indexOf(CR) !== -1;
    const end = hasCr ? lastEventEnd(bytes) : lastEventEndLf(bytes);
    if (end === 0) {
      // A copy: the chunk may be large, and only its tail is kept.
      this.pending = bytes === chunk ? Buffer.from(chunk) : bytes;
      return undefined;
    }
    if (end < bytes.length) this.pending = Buffer.from(bytes.subarray(end));
    const forwarded = this.inspect(bytes, end, hasCr);
    if (forwarded !== undefined) this.forwardedBytes += forwarded.length;
    return forwarded;
  }

  /** True when the stream ended as a complete answer: `[DONE]`, or a finish reason and nothing left half-sent. */
  get complete(): boolean {
    return !this.errorSeen && (this.doneSeen || (this.finishSeen && isBlank(this.pending)));
  }

  /**
   * Inspects the whole events of `bytes` up to `blockEnd`; returns what of them to forward (all of them, as a view,
   * unless something is left out).
   */
  private inspect(bytes: Buffer, blockEnd: number, hasCr: boolean): Buffer | undefined {
    let kept: Buffer[] | undefined;
    let keptFrom = 0;
    let start = 0;
    while (start < blockEnd) {
      const end = hasCr ? nextEventEnd(bytes, start) : eventEndLf(bytes, start, blockEnd);
      const malformedBefore = this.malformedEvents;
      const keep = this.inspectEvent(bytes, start, end, hasCr);
      const stop = this.malformedEvents !== malformedBefore && this.options.skipMalformed !== true;
      if (!keep || stop) {
        kept ??= [];
        if (start > keptFrom) kept.push(bytes.subarray(keptFrom, start));
        if (keep) kept.push(bytes.subarray(start, end));
        keptFrom = end;
      }
      start = end;
      if (stop) {
        keptFrom = blockEnd;
        break;
      }
    }
    if (kept === undefined) return blockEnd === bytes.length ? bytes : bytes.subarray(0, blockEnd);
    if (keptFrom < blockEnd) kept.push(bytes.subarray(keptFrom, blockEnd));
    if (kept.length === 0) return undefined;
    return kept.length === 1 ? kept[0] : Buffer.concat(kept);
  }

  /** Reads the event of `block` from `start` to `end` (just past its blank line); returns false to leave it out. */
  private inspectEvent(block: Buffer, start: number, end: number, hasCr: boolean): boolean {
    const lineEnd = hasCr ? lineEndOf(block, start) : block.indexOf(LF, start);
    const afterLine = lineEnd + (block[lineEnd] === CR && block[lineEnd + 1] === LF ? 2 : 1);
    const rest = end - afterLine;
    const singleLine = rest === 1 || (rest === 2 && block[afterLine] === CR);
    if (!singleLine || !startsWith(block, start, DATA_FIELD)) return this.inspectText(block.toString('utf8', start, end));
    // One `data:` line: its value, trimmed.
    let from = start + DATA_FIELD.length;
    let to = lineEnd;
    while (from < to && isSpace(block[from]!)) from += 1;
    while (to > from && isSpace(block[to - 1]!)) to -= 1;
    if (from === to) return true; // empty data
    if (to - from === DONE_DATA.length && startsWith(block, from, DONE_DATA)) {
      this.doneSeen = true;
      return this.options.holdDone !== true;
    }
    if (block[from] !== OPEN_BRACE || block[to - 1] !== CLOSE_BRACE) {
      this.malformedSeen = true;
      this.malformedEvents += 1;
      return false;
    }
    if (!this.firstTokenSeen) {
      const data = block.subarray(from, to);
      return this.inspectData(data.toString('utf8'), data);
    }
    const keys = scanKeys(block, from, to);
    if ((keys & FINISH) !== 0) this.finishSeen = true;
    if ((keys & CONTENT_FILTER) !== 0) this.contentFilterSeen = true;
    const usageLike = (keys & USAGE_OBJECT) !== 0;
    const errorLike = (keys & ERROR_VALUE) !== 0;
    const keep = usageLike || errorLike ? this.inspectParsed(block.toString('utf8', from, to), usageLike, errorLike) : true;
    if (keep && this.options.onEvent !== undefined) this.options.onEvent(block.subarray(from, to));
    return keep;
  }

  /** An event that is not one `data:` line (several data lines, an id or event field, a comment), as text. */
  private inspectText(event: string): boolean {
    const data = dataOf(event.includes('\r') ? event.replace(/\r\n?/g, '\n') : event);
    if (data === undefined || data === '') return true; // comments (keep-alives), event names, ids, empty data
    if (data === '[DONE]') {
      this.doneSeen = true;
      return this.options.holdDone !== true;
    }
    return this.inspectData(data, undefined);
  }

  /** A JSON-looking event's data, read with the patterns. `bytes` are its bytes when the caller has them. */
  private inspectData(data: string, bytes: Buffer | undefined): boolean {
    // A cheap shape check instead of parsing every chunk: an event's JSON is one object.
    if (data.charCodeAt(0) !== OPEN_BRACE || data.charCodeAt(data.length - 1) !== CLOSE_BRACE) {
      this.malformedSeen = true;
      this.malformedEvents += 1;
      return false;
    }
    if (!this.firstTokenSeen && (TOKEN_PATTERN.test(data) || TOOL_CALLS_PATTERN.test(data))) this.firstTokenSeen = true;
    if (FINISH_PATTERN.test(data)) {
      this.finishSeen = true;
      if (!this.contentFilterSeen) this.contentFilterSeen = CONTENT_FILTER_PATTERN.test(data);
    }
    const usageLike = USAGE_PATTERN.test(data);
    const errorLike = ERROR_PATTERN.test(data);
    const keep = usageLike || errorLike ? this.inspectParsed(data, usageLike, errorLike) : true;
    if (keep) this.options.onEvent?.(bytes ?? Buffer.from(data));
    return keep;
  }

  /** An event that may carry usage or an error: parsed, to read them and to check they are top-level keys. */
  private inspectParsed(data: string, usageLike: boolean, errorLike: boolean): boolean {
    const chunk = parseObject(data);
    // An error event that does not even parse still means the answer is not complete.
    if (errorLike && (chunk === undefined || isObject(chunk['error']) || typeof chunk['error'] === 'string')) this.errorSeen = true;
    if (chunk === undefined) return true;
    if (!usageLike || !isObject(chunk['usage'])) return true;
    this.usage = usageFromResponse(chunk) ?? this.usage;
    const usageOnly = Array.isArray(chunk['choices']) && chunk['choices'].length === 0;
    return !(this.dropUsageOnlyChunk && usageOnly);
  }
}

function isSpace(byte: number): boolean {
  return byte === SPACE || byte === TAB;
}

function isBlank(bytes: Buffer | undefined): boolean {
  if (bytes === undefined) return true;
  for (const byte of bytes) if (byte !== SPACE && byte !== TAB && byte !== LF && byte !== CR) return false;
  return true;
}

function startsWith(bytes: Buffer, at: number, prefix: Buffer): boolean {
  return matchesAt(bytes, at, bytes.length, prefix);
}

/** `bytes` hold `prefix` at `at`, ending before `to`. */
function matchesAt(bytes: Buffer, at: number, to: number, prefix: Buffer): boolean {
  if (at + prefix.length > to) return false;
  for (let index = 0; index < prefix.length; index += 1) if (bytes[at + index] !== prefix[index]) return false;
  return true;
}

/** Where the value of the key that ends at `afterKey` starts (past whitespace, the colon, whitespace); -1 if none before `to`. */
function valueStart(data: Buffer, afterKey: number, to: number): number {
  let at = afterKey;
  while (at < to && isJsonSpace(data[at]!)) at += 1;
  if (at >= to || data[at] !== COLON) return -1;
  at += 1;
  while (at < to && isJsonSpace(data[at]!)) at += 1;
  return at < to ? at : -1;
}

function isJsonSpace(byte: number): boolean {
  return byte === SPACE || byte === TAB || byte === LF || byte === CR;
}

/** What {@link scanKeys} found, as bits. */
const FINISH = 1;
const CONTENT_FILTER = 2;
const USAGE_OBJECT = 4;
const ERROR_VALUE = 8;

/**
 * One pass over the JSON from `from` to `to`, at each quote: a key `"finish_reason"` with a string value (FINISH, and
 * CONTENT_FILTER for `"content_filter"`), `"usage"` with an object value (USAGE_OBJECT), `"error"` with an object or
 * a string value (ERROR_VALUE). Inside a JSON string every quote is escaped, so text that mentions these keys does
 * not match. One loop costs less than a native `indexOf` per key on events of a few hundred bytes (measured: 0.3 µs
 * per 230-byte event, against 0.27 µs for each of the five searches it replaces).
 */
function scanKeys(bytes: Buffer, from: number, to: number): number {
  let found = 0;
  for (let at = from; at < to; at += 1) {
    if (bytes[at] !== QUOTE) continue;
    const next = bytes[at + 1];
    let key: Buffer;
    if (next === 0x66) key = FINISH_KEY; // f
    else if (next === 0x75) key = USAGE_KEY; // u
    else if (next === 0x65) key = ERROR_KEY; // e
    else continue;
    if (!matchesAt(bytes, at, to, key)) continue;
    const value = valueStart(bytes, at + key.length, to);
    if (value === -1) continue;
    const first = bytes[value];
    if (key === FINISH_KEY) {
      if (first !== QUOTE) continue;
      found |= FINISH;
      if (matchesAt(bytes, value, to, CONTENT_FILTER_VALUE)) found |= CONTENT_FILTER;
    } else if (key === USAGE_KEY) {
      if (first === OPEN_BRACE) found |= USAGE_OBJECT;
    } else if (first === OPEN_BRACE || first === QUOTE) {
      found |= ERROR_VALUE;
    }
  }
  return found;
}

/** The index of the line terminator (CR or LF) of the line that starts at `start`; -1 when there is none. */
function lineEndOf(bytes: Buffer, start: number): number {
  for (let at = start; at < bytes.length; at += 1) {
    const byte = bytes[at];
    if (byte === LF || byte === CR) return at;
  }
  return -1;
}

/**
 * Just past the blank line that ends the event starting at `start` (lines end with CRLF, LF or CR); -1 when the
 * event is not complete. A CR at the very end counts as a line's end: when the LF of a CRLF follows in the next
 * chunk, it reads there as one more blank line (an empty event, forwarded as it came).
 */
function nextEventEnd(bytes: Buffer, start: number): number {
  let lineEmpty = true;
  for (let at = start; at < bytes.length; at += 1) {
    const byte = bytes[at];
    if (byte !== LF && byte !== CR) {
      lineEmpty = false;
      continue;
    }
    if (byte === CR && bytes[at + 1] === LF) at += 1;
    if (lineEmpty) return at + 1;
    lineEmpty = true;
  }
  return -1;
}

/** Just past the blank line of the event at `start`, in LF-only bytes whose complete events end at `blockEnd`. */
function eventEndLf(bytes: Buffer, start: number, blockEnd: number): number {
  const found = bytes.indexOf(EVENT_END_LF, start);
  return found === -1 || found + 2 > blockEnd ? blockEnd : found + 2;
}

/** Just past the last complete event in LF-only `bytes`, 0 when there is none. */
function lastEventEndLf(bytes: Buffer): number {
  const found = bytes.lastIndexOf(EVENT_END_LF);
  return found === -1 ? 0 : found + 2;
}

/** Just past the last complete event in `bytes`, 0 when there is none (the general case: any line endings). */
function lastEventEnd(bytes: Buffer): number {
  let last = 0;
  for (let end = nextEventEnd(bytes, 0); end !== -1; end = nextEventEnd(bytes, end)) last = end;
  return last;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The event's JSON object, or undefined when it does not parse to one. */
function parseObject(data: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(data);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The event's data: its `data:` lines joined (SSE allows several), undefined when it has none. */
function dataOf(event: string): string | undefined {
  if (!event.startsWith('data:') && !event.includes('\ndata:')) return undefined;
  let data: string | undefined;
  for (const line of event.split('\n')) {
    if (!line.startsWith('data:')) continue;
    const value = line.slice(line.charCodeAt(5) === 0x20 ? 6 : 5);
    data = data === undefined ? value : `${data}\n${value}`;
  }
  return data?.trim();
}
