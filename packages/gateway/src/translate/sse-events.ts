import { StringDecoder } from 'node:string_decoder';

/**
 * Cuts a server-sent-event stream at event boundaries as its bytes arrive: each call returns the events completed so
 * far ('' when none is), keeping only the unfinished one. CRLF line ends are read as LF.
 */
export class SseCutter {
  private pending = '';
  private readonly decoder = new StringDecoder('utf8');

  /** The characters of the event not complete yet: what a caller bounds. */
  get pendingLength(): number {
    return this.pending.length;
  }

  cut(chunk: Buffer | string): string {
    let text = this.pending + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    if (text.includes('\r')) text = text.replace(/\r\n/g, '\n');
    const boundary = text.lastIndexOf('\n\n');
    if (boundary === -1) {
      this.pending = text;
      return '';
    }
    this.pending = text.slice(boundary + 2);
    return text.slice(0, boundary + 2);
  }
}

/** Calls `each` with every event of a run of complete events (as SseCutter returns them), until it returns false. */
export function forEachEvent(events: string, each: (event: string) => boolean | void): void {
  let start = 0;
  while (start < events.length) {
    const end = events.indexOf('\n\n', start);
    if (each(events.slice(start, end + 2)) === false) return;
    start = end + 2;
  }
}

/** An event's name (its `event:` line) and data (its `data:` lines joined, trimmed); undefined when absent. */
export function parseSseEvent(event: string): { name: string | undefined; data: string | undefined } {
  let name: string | undefined;
  let data: string | undefined;
  for (const line of event.split('\n')) {
    if (line.startsWith('event:')) name = line.slice(6).trim();
    else if (line.startsWith('data:')) {
      const value = line.slice(line.charCodeAt(5) === 0x20 ? 6 : 5);
      data = data === undefined ? value : `${data}\n${value}`;
    }
  }
  return { name, data: data?.trim() };
}

/**
 * Feeds one piece of a stream through an event-by-event translation: cuts it with `cutter`, translates every event it
 * completes with `translate` until `ended()` (nothing is read after a translation's last event), and returns the
 * translated events joined ('' when none).
 */
export function translateEvents(cutter: SseCutter, chunk: Buffer | string, translate: (event: string) => string, ended: () => boolean): string {
  let out = '';
  forEachEvent(cutter.cut(chunk), (event) => {
    out += translate(event);
    return !ended();
  });
  return out;
}
