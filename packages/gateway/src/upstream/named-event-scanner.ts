import { SseCutter, forEachEvent, parseSseEvent } from '../translate/sse-events.js';
import type { TokenUsage } from '../usage/token-usage.js';

/**
 * What an attempt reads of a stream of named events passed through untranslated (Anthropic's Messages events, OpenAI's
 * Responses events), as SseScanner reads a Chat Completions stream: the bytes are cut at event boundaries and each
 * complete event is inspected by the protocol's scanner, which says whether it goes out now. The first malformed
 * event stops the scan.
 */
export abstract class NamedEventScanner {
  firstTokenSeen = false;
  finishSeen = false;
  /** The closing event arrived (held back: the dialect's end of stream sends it once the usage record is committed). */
  doneSeen = false;
  errorSeen = false;
  /** The answer was stopped by a content filter (a refusal): no content is an answer then. */
  contentFilterSeen = false;
  malformedSeen = false;
  usage: TokenUsage | undefined;
  /** The bytes of the events let through (as SseScanner counts them). */
  forwardedBytes = 0;
  private readonly cutter = new SseCutter();

  /** Malformed events seen (as SseScanner counts them): the first one stops this scanner. */
  get malformedEvents(): number {
    return this.malformedSeen ? 1 : 0;
  }

  /** A complete answer: the closing event arrived and no error did. */
  get complete(): boolean {
    return this.doneSeen && !this.errorSeen;
  }

  /** Feeds upstream bytes; returns the complete events to forward now, undefined when none are. */
  push(chunk: Buffer): Buffer | undefined {
    let kept = '';
    forEachEvent(this.cutter.cut(chunk), (event) => {
      if (this.read(event)) kept += event;
      return !this.malformedSeen;
    });
    if (kept === '') return undefined;
    const bytes = Buffer.from(kept);
    this.forwardedBytes += bytes.length;
    return bytes;
  }

  /** Whether a complete event goes out now: not a malformed one (data that is not a JSON object), else as `inspect` says. */
  private read(event: string): boolean {
    const { name, data } = parseSseEvent(event);
    if (data === undefined || data === '') return true;
    if (data.charCodeAt(0) !== 0x7b || data.charCodeAt(data.length - 1) !== 0x7d) {
      this.malformedSeen = true;
      return false;
    }
    return this.inspect(name, data, event);
  }

  /** Reads one event's JSON data; returns false for an event not forwarded now (the closing one, held back). */
  protected abstract inspect(name: string | undefined, data: string, event: string): boolean;
}
