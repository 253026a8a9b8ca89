import { StringDecoder } from 'node:string_decoder';
import { usageFromResponse, type TokenUsage } from '../usage/token-usage.js';

// Usage reading lives in usage/token-usage.ts (both protocols, cache counts); re-exported for existing importers.
export { usageFromResponse, type TokenUsage };

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
 * event is then parsed to check the key is a top-level one. (V8 runs these faster than String.includes: measured
 * 40–80 ns against 150–200 ns on a 250-byte chunk.)
 */
const USAGE_PATTERN = /"usage"\s*:\s*\{/;
const ERROR_PATTERN = /"error"\s*:\s*[{"]/;

/**
 * Scans an OpenAI server-sent-event stream as it passes through, without parsing every chunk: it cuts the byte
 * stream at event boundaries (so a client never receives half an event), notes the first token, a finish reason,
 * `[DONE]` and the usage chunk, and can drop the usage-only chunk the gateway asked for on the client's behalf.
 * The patterns tolerate any whitespace, so spaced (`"usage": {`) and pretty-printed (multi-line) JSON read the same.
 * JSON.parse runs only on an event that has a `"usage"` key with an object value or an `"error"` key: the usage
 * chunk and error events, not the `"usage": null` that OpenAI adds to every chunk.
 */
export class SseScanner {
  firstTokenSeen = false;
  finishSeen = false;
  doneSeen = false;
  errorSeen = false;
  /** A choice finished with `content_filter`. */
  contentFilterSeen = false;
  /** An event whose data is neither JSON-looking nor [DONE]: it and everything after it are not forwarded. */
  malformedSeen = false;
  usage: TokenUsage | undefined;
  /**
   * The data of the JSON events seen, while they total at most `collectBytes`: what the gateway counts tokens in when
   * the backend reports no usage (or the stream breaks before it does). `collectedBytes` of `dataBytes` were kept.
   */
  readonly collected: string[] = [];
  collectedBytes = 0;
  dataBytes = 0;
  private pending = '';
  private readonly decoder = new StringDecoder('utf8');

  constructor(
    private readonly dropUsageOnlyChunk: boolean,
    private readonly options: {
      /** Leave `[DONE]` out of the forwarded events (the caller sends it once it is ready to end). */
      readonly holdDone?: boolean;
      readonly collectBytes?: number;
    } = {},
  ) {}

  /** Feeds upstream bytes; returns the complete events to forward now ('' when none are complete yet). */
  push(chunk: Buffer): string {
    let text = this.pending + this.decoder.write(chunk);
    if (text.includes('\r')) text = text.replace(/\r\n/g, '\n');
    const boundary = text.lastIndexOf('\n\n');
    if (boundary === -1) {
      this.pending = text;
      return '';
    }
    this.pending = text.slice(boundary + 2);
    return this.inspect(text.slice(0, boundary + 2));
  }

  /** True when the stream ended as a complete answer: `[DONE]`, or a finish reason and nothing left half-sent. */
  get complete(): boolean {
    return !this.errorSeen && (this.doneSeen || (this.finishSeen && this.pending.trim() === ''));
  }

  private inspect(events: string): string {
    let dropped = false;
    const kept: string[] = [];
    let start = 0;
    while (start < events.length) {
      const end = events.indexOf('\n\n', start) + 2;
      const event = events.slice(start, end);
      start = end;
      if (this.inspectEvent(event)) kept.push(event);
      else dropped = true;
      if (this.malformedSeen) {
        dropped = true;
        break;
      }
    }
    return dropped ? kept.join('') : events;
  }

  /** Returns false when the event is to be dropped. */
  private inspectEvent(event: string): boolean {
    const data = dataOf(event);
    if (data === undefined || data === '') return true; // comments (keep-alives), event names, ids, empty data
    if (data === '[DONE]') {
      this.doneSeen = true;
      return this.options.holdDone !== true;
    }
    // A cheap shape check instead of parsing every chunk: an event's JSON is one object.
    if (data.charCodeAt(0) !== 0x7b || data.charCodeAt(data.length - 1) !== 0x7d) {
      this.malformedSeen = true;
      return false;
    }
    if (!this.firstTokenSeen && (TOKEN_PATTERN.test(data) || TOOL_CALLS_PATTERN.test(data))) this.firstTokenSeen = true;
    if (FINISH_PATTERN.test(data)) {
      this.finishSeen = true;
      if (!this.contentFilterSeen) this.contentFilterSeen = CONTENT_FILTER_PATTERN.test(data);
    }
    this.dataBytes += data.length;
    if (this.options.collectBytes !== undefined && this.collectedBytes + data.length <= this.options.collectBytes) {
      this.collected.push(data);
      this.collectedBytes += data.length;
    }
    const usageLike = USAGE_PATTERN.test(data);
    const errorLike = ERROR_PATTERN.test(data);
    if (!usageLike && !errorLike) return true;
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
  // Almost every event is one `data:` line: read it without splitting (this runs for every chunk of every stream).
  if (event.startsWith('data:') && event.indexOf('\n') === event.length - 2) return event.slice(5).trim();
  if (!event.startsWith('data:') && !event.includes('\ndata:')) return undefined;
  let data: string | undefined;
  for (const line of event.split('\n')) {
    if (!line.startsWith('data:')) continue;
    const value = line.slice(line.charCodeAt(5) === 0x20 ? 6 : 5);
    data = data === undefined ? value : `${data}\n${value}`;
  }
  return data?.trim();
}
