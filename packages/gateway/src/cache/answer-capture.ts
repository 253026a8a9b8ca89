import { EventEmitter } from 'node:events';
import type { OutgoingHttpHeaders } from 'node:http';
import type { AnswerWriter } from '../upstream/attempt.js';

/**
 * What reached the client of a request whose answer may be stored: the status, the content type and the bytes, kept
 * while they pass (never more than `maxBytes`: past it the capture gives up and lets the rest through).
 */
export class AnswerCapture {
  status = 0;
  contentType = '';
  private readonly chunks: Buffer[] = [];
  private bytes = 0;
  /** The answer ended (its last bytes were written), whole and within the cap. */
  ended = false;
  overflowed = false;
  /** The answer went through the ingress's translation after the capture (see CacheTicket.tap). */
  translated = false;

  constructor(
    private readonly maxBytes: number,
    /** In-flight de-duplication: the leader's answer, told to its followers as it passes. */
    private readonly sink?: { head(status: number, contentType: string): void; data(chunk: Buffer): void },
  ) {}

  /** The writer an attempt writes the answer through: `inner` (the client's response or a translator), with a copy kept. */
  tap(inner: AnswerWriter): AnswerWriter {
    return new CapturingWriter(inner, this);
  }

  head(status: number, headers: OutgoingHttpHeaders): void {
    this.status = status;
    this.contentType = String(headers['content-type'] ?? '');
    this.sink?.head(status, this.contentType);
  }

  /**
   * The answer's last bytes (written with its end), told to the followers only once the answer is known whole: a
   * broken stream's error event is its client's alone (its followers take the answer over, decision 0019).
   */
  last: Buffer | undefined;

  /** Bytes that passed; `last`: the ones written with the end. */
  add(chunk: string | Buffer | undefined, last = false): void {
    if (chunk === undefined || chunk.length === 0 || (this.overflowed && !this.sink)) return;
    // A copy: the relay may hand over a view of a buffer it reuses.
    const buffer = Buffer.from(chunk);
    if (last) this.last = buffer;
    else this.sink?.data(buffer);
    if (this.overflowed) return;
    this.bytes += buffer.length;
    if (this.bytes > this.maxBytes) {
      this.overflowed = true;
      this.chunks.length = 0;
      return;
    }
    this.chunks.push(buffer);
  }

  body(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** An AnswerWriter that writes through to another and tells the capture what passed. */
class CapturingWriter extends EventEmitter implements AnswerWriter {
  private readonly relayDrain = (): void => {
    this.emit('drain');
  };

  constructor(
    private readonly inner: AnswerWriter,
    private readonly capture: AnswerCapture,
  ) {
    super();
    inner.on('drain', this.relayDrain);
  }

  get destroyed(): boolean {
    return this.inner.destroyed;
  }

  writeHead(status: number, headers: OutgoingHttpHeaders): unknown {
    this.capture.head(status, headers);
    return this.inner.writeHead(status, headers);
  }

  write(chunk: string | Buffer): boolean {
    this.capture.add(chunk);
    return this.inner.write(chunk);
  }

  end(chunk?: string | Buffer): unknown {
    this.inner.off('drain', this.relayDrain);
    this.capture.add(chunk, true);
    this.capture.ended = true;
    return this.inner.end(chunk);
  }
}
