/**
 * A reference copy, for differential tests only: `DeliveredStream` as it was before faaa0c5 (quotes found with
 * `indexOf`). Not built into dist (src/test-support is excluded). Do not edit to follow the live class.
 */
/** What the client has been sent of a chat stream, read back when the stream breaks. */
interface Transcript {
  /** The stream's `id`, `created`, `model` and `system_fingerprint`, as the client saw them first. */
  readonly id: string | undefined;
  readonly created: number | undefined;
  readonly model: string | undefined;
  readonly systemFingerprint: string | undefined;
  /** The content deltas, joined. */
  readonly text: string;
  /**
   * Why the answer cannot be continued by another deployment, if it cannot: a tool-call delta, reasoning or refusal
   * text, more than the gateway keeps, no text at all.
   */
  readonly unrecoverable: string | undefined;
}

/** Content slices kept before they are joined into one. */
const JOIN_EVERY = 64;
const ID_KEY = Buffer.from('"id"');
const EVENT_END = Buffer.from('\n\n');
/**
 * The keys read in the forwarded bytes: `content` (kept), and what a continuation cannot reproduce (a tool call, a
 * function call, reasoning, a refusal). Found in one pass from quote to quote; a key that is found is confirmed on
 * its value's first byte: OpenAI sends `"refusal":null` in a stream's first chunk.
 */
const KEYS: ReadonlyArray<{ readonly key: Buffer; readonly refusal?: string; readonly opens?: number }> = [
  { key: Buffer.from('"content"') },
  { key: Buffer.from('"tool_calls"'), refusal: 'the stream carried a tool call delta', opens: 0x5b },
  { key: Buffer.from('"function_call"'), refusal: 'the stream carried a function call delta', opens: 0x7b },
  { key: Buffer.from('"reasoning_content"'), refusal: 'the stream carried reasoning text', opens: 0x22 },
  { key: Buffer.from('"reasoning"'), refusal: 'the stream carried reasoning text', opens: 0x22 },
  { key: Buffer.from('"refusal"'), refusal: 'the stream carried refusal text', opens: 0x22 },
];
/**
 * The keys by the byte after their opening quote, so that most quotes are passed over after one array read: this
 * runs for every quote of every forwarded event (a Map lookup, a closure and a native compare per quote cost it
 * about 3x the scanner's own pass).
 */
const KEYS_BY_INITIAL: ReadonlyArray<typeof KEYS | undefined> = (() => {
  const byInitial: (typeof KEYS)[] = [];
  for (const entry of KEYS) byInitial[entry.key[1]!] = [...(byInitial[entry.key[1]!] ?? []), entry];
  return Array.from({ length: 256 }, (_, initial) => byInitial[initial]);
})();

/** Whether `key` is in `bytes` at `at` (its first two bytes, the quote and the initial, already matched). */
function keyAt(bytes: Buffer, at: number, key: Buffer): boolean {
  if (at + key.length > bytes.length) return false;
  for (let index = 2; index < key.length; index += 1) if (bytes[at + index] !== key[index]) return false;
  return true;
}

/** The entry whose key is in `bytes` at the quote `at`, if any. */
function keyEntryAt(bytes: Buffer, at: number): (typeof KEYS)[number] | undefined {
  const candidates = KEYS_BY_INITIAL[bytes[at + 1] ?? 0];
  if (candidates === undefined) return undefined;
  for (const entry of candidates) if (keyAt(bytes, at, entry.key)) return entry;
  return undefined;
}

/**
 * Keeps what a chat stream forwarded to its client, to read it back if the stream breaks: the first event with an id
 * as it was (its id, created, model), the content values still JSON-escaped (about 10 bytes a token kept, where the
 * events are ~150), and whether anything a continuation cannot reproduce went by. One pass from quote to quote over each forwarded
 * chunk's bytes (no decoding but of the content values); nothing is parsed unless the stream breaks. Past `maxBytes` of text it lets go of it: such a stream is not
 * continued. (A finish reason needs no check here: a stream that sent one is complete for the relay.)
 */
export class ReferenceDeliveredStream {
  private first: string | undefined;
  private contents: string[] = [];
  private bytes = 0;
  private refusal: string | undefined;

  constructor(private readonly maxBytes: number) {}

  add(chunk: string | Buffer): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    // The first event with an id (keep-alive comments may come before it).
    const idAt = this.first === undefined ? bytes.indexOf(ID_KEY) : -1;
    if (idAt !== -1) {
      const start = bytes.lastIndexOf(EVENT_END, idAt);
      const end = bytes.indexOf(EVENT_END, idAt);
      this.first = bytes.toString('utf8', start === -1 ? 0 : start + 2, end === -1 ? bytes.length : end + 2);
    }
    if (this.refusal !== undefined) return;
    for (let quote = bytes.indexOf(0x22); quote !== -1; quote = bytes.indexOf(0x22, quote + 1)) {
      const entry = keyEntryAt(bytes, quote);
      if (!entry) continue;
      const value = stringValueAt(bytes, quote + entry.key.length);
      if (entry.refusal !== undefined) {
        const opens = valueStart(bytes, quote + entry.key.length);
        // A string counts when it is not empty; `null` never does.
        if (opens !== undefined && bytes[opens] === entry.opens && !(entry.opens === 0x22 && bytes[opens + 1] === 0x22)) return this.refuse(entry.refusal);
        quote += entry.key.length - 1;
        continue;
      }
      if (value === undefined) {
        quote += entry.key.length - 1;
        continue;
      }
      quote = value.end;
      if (value.end === value.start) continue;
      this.bytes += value.end - value.start;
      if (this.bytes > this.maxBytes) return this.refuse(`more than ${this.maxBytes} bytes of text were streamed`);
      this.contents.push(bytes.toString('utf8', value.start, value.end));
      // Joined now and then into one flat string: a string per token costs about five times its text.
      if (this.contents.length >= JOIN_EVERY) this.contents = [this.contents.join('')];
    }
  }

  /** What the forwarded events said. */
  transcript(): Transcript {
    const head = firstChunk(this.first);
    const text = this.refusal === undefined ? unescapeJson(this.contents.join('')) : '';
    return {
      id: typeof head['id'] === 'string' ? head['id'] : undefined,
      created: typeof head['created'] === 'number' ? head['created'] : undefined,
      model: typeof head['model'] === 'string' ? head['model'] : undefined,
      systemFingerprint: typeof head['system_fingerprint'] === 'string' ? head['system_fingerprint'] : undefined,
      text,
      unrecoverable: this.refusal ?? (text === '' ? 'no text reached the client' : undefined),
    };
  }

  private refuse(reason: string): void {
    this.refusal ??= reason;
    this.contents = [];
  }
}

/**
 * Where the JSON string value after a key ending at `index` lies (`"key" : "value"`, any spacing): the offsets of its
 * escaped bytes, or undefined when the key has no string value (`null`, or not a key at all).
 */
function stringValueAt(bytes: Buffer, index: number): { start: number; end: number } | undefined {
  const at = valueStart(bytes, index);
  if (at === undefined || bytes[at] !== 0x22) return undefined; // '"'
  const start = at + 1;
  for (let end = start; end < bytes.length; end += 1) {
    const code = bytes[end];
    if (code === 0x5c) end += 1; // a backslash escapes the next byte (every escape starts with an ASCII one)
    else if (code === 0x22) return { start, end };
  }
  return undefined;
}

/** Where the value after a key ending at `index` starts (past the colon and any spacing); undefined without a colon. */
function valueStart(bytes: Buffer, index: number): number | undefined {
  let at = index;
  while (isSpace(bytes[at])) at += 1;
  if (bytes[at] !== 0x3a) return undefined; // ':'
  at += 1;
  while (isSpace(bytes[at])) at += 1;
  return at;
}

function isSpace(code: number | undefined): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

function unescapeJson(escaped: string): string {
  return escaped.includes('\\') ? (JSON.parse(`"${escaped}"`) as string) : escaped;
}

/** The first forwarded event's JSON object ({} when it is not one). */
function firstChunk(event: string | undefined): Record<string, unknown> {
  const data = event === undefined ? undefined : eventData(`${event.endsWith('\n\n') ? event : `${event}\n\n`}`)[0];
  if (data === undefined) return {};
  try {
    const value: unknown = JSON.parse(data);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The data of every complete event in `text` (its `data:` lines joined with "\n"). */
function eventData(text: string): string[] {
  const normalized = text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
  const events = normalized.split('\n\n');
  events.pop(); // after the last boundary: incomplete, or empty
  const data: string[] = [];
  for (const event of events) {
    let joined: string | undefined;
    for (const line of event.split('\n')) {
      if (!line.startsWith('data:')) continue;
      const value = line.slice(line.charCodeAt(5) === 0x20 ? 6 : 5);
      joined = joined === undefined ? value : `${joined}\n${value}`;
    }
    if (joined !== undefined) data.push(joined.trim());
  }
  return data;
}
