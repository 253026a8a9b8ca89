/** A line longer than this (1 MiB by default) fails the read: a broken server must not grow the buffer until timeout. */
export const DEFAULT_MAXIMUM_LINE_LENGTH = 1 << 20;

/**
 * Yields the `data` of each server-sent event as its closing blank line arrives, so the caller can act on the first
 * event while the rest is still on the way. Follows the WHATWG event-stream rules that matter here: CRLF, LF or CR
 * line ends, comment lines (keep-alives), several `data:` lines joined by "\n", other fields ignored, and an event
 * cut off by the end of the stream dropped. Leaving the loop early (break, return, throw) cancels the body.
 */
export async function* readEventData(
  body: ReadableStream<Uint8Array>,
  maximumLineLength: number = DEFAULT_MAXIMUM_LINE_LENGTH,
): AsyncGenerator<string, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let pending = '';
  let data: string[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      pending += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let lineEnd: number;
      while ((lineEnd = pending.search(/[\r\n]/)) !== -1) {
        // A CR at the very end may be the first half of a CRLF split across two chunks: wait for the next one.
        if (pending[lineEnd] === '\r' && lineEnd === pending.length - 1 && !done) break;
        const line = pending.slice(0, lineEnd);
        pending = pending.slice(pending.startsWith('\r\n', lineEnd) ? lineEnd + 2 : lineEnd + 1);
        if (line === '') {
          if (data.length > 0) yield data.join('\n');
          data = [];
        } else if (line === 'data' || line.startsWith('data:')) {
          data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
        }
      }
      if (pending.length > maximumLineLength) {
        throw new Error(`event stream line longer than ${maximumLineLength} characters`);
      }
      if (done) return;
    }
  } finally {
    // A no-op once the body has ended; otherwise it drops the connection instead of draining what is left.
    await reader.cancel().catch(() => undefined);
  }
}
