/** What the client has been sent of a chat stream, read back when the stream breaks. */
export interface Transcript {
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
/**
 * The keys read, found in one pass over each forwarded chunk: `content` (kept), and what a continuation cannot
 * reproduce: a tool call, a function call, reasoning, a refusal. Inside a JSON string every quote is escaped, so
 * answer text that mentions these words does not match.
 */
const KEYS = /"(content|tool_calls|function_call|reasoning_content|reasoning|refusal)"\s*:\s*/g;

/**
 * Keeps what a chat stream forwarded to its client, to read it back if the stream breaks: the first event with an id
 * as it was (its id, created, model), the content values still JSON-escaped (about 10 bytes a token kept, where the
 * events are ~150), and whether anything a continuation cannot reproduce went by. One regular-expression pass per forwarded
 * chunk; nothing is parsed unless the stream breaks. Past `maxBytes` of text it lets go of it: such a stream is not
 * continued. (A finish reason needs no check here: a stream that sent one is complete for the relay.)
 */
export class DeliveredStream {
  private first: string | undefined;
  private contents: string[] = [];
  private bytes = 0;
  private refusal: string | undefined;

  constructor(private readonly maxBytes: number) {}

  add(chunk: string | Buffer): void {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    // The first event with an id (keep-alive comments may come before it).
    const idAt = this.first === undefined ? text.indexOf('"id"') : -1;
    if (idAt !== -1) {
      const start = text.lastIndexOf('\n\n', idAt);
      const end = text.indexOf('\n\n', idAt);
      this.first = text.slice(start === -1 ? 0 : start + 2, end === -1 ? text.length : end + 2);
    }
    if (this.refusal !== undefined) return;
    KEYS.lastIndex = 0;
    for (let match = KEYS.exec(text); match !== null; match = KEYS.exec(text)) {
      const key = match[1]!;
      const at = KEYS.lastIndex;
      const next = text.charCodeAt(at);
      if (key !== 'content') {
        // `null` values (OpenAI sends `"refusal":null`) and empty strings are nothing a continuation would miss.
        const present = key === 'tool_calls' ? next === 0x5b : key === 'function_call' ? next === 0x7b : next === 0x22 && text.charCodeAt(at + 1) !== 0x22;
        if (present) return this.refuse(`the stream carried a ${key.replace('_', ' ')} delta`);
        continue;
      }
      const end = next === 0x22 ? stringEnd(text, at + 1) : -1;
      if (end === -1 || end === at + 1) continue;
      this.bytes += end - at - 1;
      if (this.bytes > this.maxBytes) return this.refuse(`more than ${this.maxBytes} bytes of text were streamed`);
      this.contents.push(text.slice(at + 1, end));
      // Joined now and then into one flat string: a string per token costs about five times its text.
      if (this.contents.length >= JOIN_EVERY) this.contents = [this.contents.join('')];
      KEYS.lastIndex = end + 1;
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

/** The offset of the quote that ends the JSON string whose text starts at `start`, or -1 when it does not end. */
function stringEnd(text: string, start: number): number {
  for (let end = start; end < text.length; end += 1) {
    const code = text.charCodeAt(end);
    if (code === 0x5c) end += 1; // a backslash escapes the next character
    else if (code === 0x22) return end;
  }
  return -1;
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
export function eventData(text: string): string[] {
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
