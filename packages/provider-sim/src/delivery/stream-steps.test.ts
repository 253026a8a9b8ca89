import { describe, expect, it } from 'vitest';
import { flattenSteps, tokenEvents } from './stream-steps.js';

describe('tokenEvents', () => {
  const choices = [
    { index: 0, pieces: ['a', 'b', 'c'] },
    { index: 1, pieces: ['x'] },
  ];

  it('interleaves the choices by position, with each position delay on its first event', () => {
    const events = tokenEvents(choices, (choice) => choice.pieces, (choice, piece) => `${choice.index}:${piece}`, 50, 10);

    expect(events.map((event) => [event.payload, event.delayBeforeMs])).toEqual([
      ['0:a', 50],
      ['1:x', 0],
      ['0:b', 10],
      ['0:c', 10],
    ]);
  });

  it('encodes an event only when its payload is read, so a stream holds no encoded events ahead of sending them', () => {
    const encoded: string[] = [];
    const events = tokenEvents(choices, (choice) => choice.pieces, (choice, piece) => {
      encoded.push(piece);
      return `${choice.index}:${piece}`;
    }, 0, 10);

    expect(encoded).toEqual([]);
    expect(events[2]?.payload).toBe('0:b');
    expect(encoded).toEqual(['b']);
  });
});

describe('flattenSteps', () => {
  it('puts a step delay on its first event only', () => {
    expect(flattenSteps([{ delayBeforeMs: 30, payloads: ['p', 'q'] }])).toEqual([
      { payload: 'p', delayBeforeMs: 30 },
      { payload: 'q', delayBeforeMs: 0 },
    ]);
  });
});
