import { describe, expect, it } from 'vitest';
import { readEventData } from './event-stream-reader.js';

/** A body that delivers the given pieces one read at a time, and notes whether it was cancelled. */
function bodyOf(pieces: readonly string[]): { body: ReadableStream<Uint8Array>; cancelled: () => boolean } {
  const encoder = new TextEncoder();
  let index = 0;
  let wasCancelled = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const piece = pieces[index++];
      if (piece === undefined) controller.close();
      else controller.enqueue(encoder.encode(piece));
    },
    cancel() {
      wasCancelled = true;
    },
  });
  return { body, cancelled: () => wasCancelled };
}

async function collect(pieces: readonly string[]): Promise<string[]> {
  const data: string[] = [];
  for await (const event of readEventData(bodyOf(pieces).body)) data.push(event);
  return data;
}

describe('reading server-sent events', () => {
  it('yields each event once its blank line arrives, across any split of the bytes', async () => {
    expect(await collect(['data: {"a"', ':1}\n', '\ndata: [DONE]\n\n'])).toEqual(['{"a":1}', '[DONE]']);
  });

  it('accepts CRLF, LF and CR line ends, a CRLF split between two reads included', async () => {
    expect(await collect(['data: one\r', '\n\r\ndata: two\n\ndata: three\r\r'])).toEqual(['one', 'two', 'three']);
  });

  it('joins several data lines and skips comments and other fields', async () => {
    expect(await collect([': keep-alive\n\nevent: message\nid: 7\ndata: first\ndata:second\n\n'])).toEqual(['first\nsecond']);
  });

  it('decodes a character split between two reads', async () => {
    const bytes = new TextEncoder().encode('data: é\n\n');
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, 7));
        controller.enqueue(bytes.slice(7));
        controller.close();
      },
    });
    const data: string[] = [];
    for await (const event of readEventData(body)) data.push(event);
    expect(data).toEqual(['é']);
  });

  it('drops an event the end of the stream cut off', async () => {
    expect(await collect(['data: whole\n\ndata: half'])).toEqual(['whole']);
  });

  it('cancels the body when the reader stops early', async () => {
    const { body, cancelled } = bodyOf(['data: one\n\n', 'data: two\n\n']);
    for await (const event of readEventData(body)) {
      expect(event).toBe('one');
      break;
    }
    expect(cancelled()).toBe(true);
  });

  it('fails on a line longer than the limit', async () => {
    await expect(async () => {
      for await (const event of readEventData(bodyOf(['data: ', 'x'.repeat(64)]).body, 32)) expect(event).toBeUndefined();
    }).rejects.toThrow('event stream line longer than 32 characters');
  });
});
