import { Readable } from 'node:stream';

/** An incremental translator of an event stream: bytes in, the client protocol's events out ('' for none yet). */
export interface StreamTranslator {
  push(chunk: Buffer): string;
  /**
   * The backend's stream ended (its connection closed cleanly): the events that only its end completes (Gemini's
   * stream has no closing event: `[DONE]` is written here). Absent: nothing.
   */
  end?(): string;
  /** True once it has answered with an error event: nothing after it is read. */
  readonly failed: boolean;
}

/**
 * The backend's stream as the translator turns it, chunk by chunk: nothing is held but what the translator keeps
 * (one event being cut). The source's errors (a deadline, a lost connection) come out as they are, so the relay
 * tells them apart as it does for an untranslated stream; destroying the result destroys the source.
 */
export function translatedStream(source: Readable, translator: StreamTranslator): Readable {
  return Readable.from(
    (async function* translate() {
      try {
        for await (const chunk of source as AsyncIterable<Buffer>) {
          const out = translator.push(chunk);
          if (out !== '') yield Buffer.from(out, 'utf8');
          if (translator.failed) return;
        }
        const last = translator.end?.() ?? '';
        if (last !== '') yield Buffer.from(last, 'utf8');
      } finally {
        source.destroy();
      }
    })(),
    { objectMode: false },
  );
}
