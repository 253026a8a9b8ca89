/** What the client has been sent of a chat stream, read back when the stream breaks. */
export interface Transcript {
  /** The stream's `id`, `created`, `model` and `system_fingerprint`, as the client saw them first. */
  readonly id: string | undefined;
  readonly created: number | undefined;
  readonly model: string | undefined;
  readonly systemFingerprint: string | undefined;
  /** The content deltas of choice 0, joined. */
  readonly text: string;
  /** A role delta was sent. */
  readonly roleSent: boolean;
  /**
   * Why the answer cannot be continued by another deployment, if it cannot: a tool-call delta, more than one choice,
   * reasoning or refusal text, a finish already sent, more than the gateway keeps.
   */
  readonly unrecoverable: string | undefined;
}

/**
 * Keeps what a stream forwarded to its client, by reference (no copy, no parsing while the stream flows), up to
 * `maxBytes`; parsed only if the stream breaks (`transcript`). Past `maxBytes` it lets go of everything: such a
 * stream is not continued.
 */
export class DeliveredStream {
  private parts: Array<string | Buffer> = [];
  private bytes = 0;
  private overflowed = false;

  constructor(private readonly maxBytes: number) {}

  add(chunk: string | Buffer): void {
    if (this.overflowed) return;
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      this.overflowed = true;
      this.parts = [];
      return;
    }
    this.parts.push(chunk);
  }

  /** What the forwarded events said. Incomplete trailing data (never forwarded by the relay) is ignored. */
  transcript(): Transcript {
    const reading = new TranscriptReader();
    if (this.overflowed) reading.refuse(`more than ${this.maxBytes} bytes were streamed`);
    const text = this.parts.map((part) => (typeof part === 'string' ? part : part.toString('utf8'))).join('');
    for (const data of eventData(text)) reading.read(data);
    return reading.result();
  }
}

class TranscriptReader {
  private id: string | undefined;
  private created: number | undefined;
  private model: string | undefined;
  private systemFingerprint: string | undefined;
  private text = '';
  private roleSent = false;
  private unrecoverable: string | undefined;

  refuse(reason: string): void {
    this.unrecoverable ??= reason;
  }

  read(data: string): void {
    if (data === '[DONE]') return this.refuse('the stream was complete');
    let chunk: Record<string, unknown>;
    try {
      chunk = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return; // not forwarded as content: nothing of the answer
    }
    if (typeof chunk !== 'object' || chunk === null) return;
    if (typeof chunk['id'] === 'string') this.id ??= chunk['id'];
    if (typeof chunk['created'] === 'number') this.created ??= chunk['created'];
    if (typeof chunk['model'] === 'string') this.model ??= chunk['model'];
    if (typeof chunk['system_fingerprint'] === 'string') this.systemFingerprint ??= chunk['system_fingerprint'];
    const choices = chunk['choices'];
    if (!Array.isArray(choices)) return;
    for (const choice of choices as Array<Record<string, unknown>>) {
      if (choice['index'] !== 0 && choice['index'] !== undefined) this.refuse('the request asked for several choices');
      if (choice['finish_reason'] !== null && choice['finish_reason'] !== undefined) this.refuse('a finish reason was sent');
      const delta = (choice['delta'] ?? {}) as Record<string, unknown>;
      if (delta['role'] !== undefined) this.roleSent = true;
      if (delta['tool_calls'] !== undefined && delta['tool_calls'] !== null) this.refuse('the stream broke inside a tool call');
      if (delta['function_call'] !== undefined && delta['function_call'] !== null) this.refuse('the stream broke inside a function call');
      for (const field of ['reasoning_content', 'reasoning', 'refusal']) {
        if (typeof delta[field] === 'string' && delta[field] !== '') this.refuse(`the stream carried ${field} text`);
      }
      if (typeof delta['content'] === 'string') this.text += delta['content'];
    }
  }

  result(): Transcript {
    return {
      id: this.id,
      created: this.created,
      model: this.model,
      systemFingerprint: this.systemFingerprint,
      text: this.text,
      roleSent: this.roleSent,
      unrecoverable: this.unrecoverable ?? (this.text === '' ? 'no text reached the client' : undefined),
    };
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
