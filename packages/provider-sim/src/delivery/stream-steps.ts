import type { StreamEvent } from './event-stream.js';

/** Events that a model emits at the same moment, e.g. the finish chunk of every choice when n > 1. */
export interface StreamStep {
  delayBeforeMs: number;
  payloads: readonly string[];
}

/** Flattens steps into timed events: a step's delay goes on its first event, the rest follow without pause. */
export function flattenSteps(steps: readonly StreamStep[]): StreamEvent[] {
  const events: StreamEvent[] = [];
  for (const step of steps) {
    step.payloads.forEach((payload, index) => {
      events.push({ payload, delayBeforeMs: index === 0 ? step.delayBeforeMs : 0 });
    });
  }
  return events;
}

/**
 * A token's event, encoded when it is read (when it is sent), not when the stream is planned: a long stream would
 * otherwise hold every encoded event of its answer from its first byte to its last, about 200 bytes an event, which
 * at 10,000 open streams is most of the simulator's heap. Reading `payload` twice encodes twice, the same text.
 */
class TokenEvent<Choice> implements StreamEvent {
  constructor(
    readonly delayBeforeMs: number,
    private readonly encode: (choice: Choice, piece: string) => string,
    private readonly choice: Choice,
    private readonly piece: string,
    readonly event: string | undefined,
  ) {}

  get payload(): string {
    return this.encode(this.choice, this.piece);
  }
}

/**
 * One event per token of every choice, interleaved by position: the first event of the first position waits
 * `firstDelayMs`, the first of every later position `interTokenDelayMs`, the others of a position follow without
 * pause; choices that already ended are skipped. Each event is encoded when it is sent, and named `event` if given.
 */
export function tokenEvents<Choice>(
  choices: readonly Choice[],
  piecesOf: (choice: Choice) => readonly string[],
  encode: (choice: Choice, piece: string) => string,
  firstDelayMs: number,
  interTokenDelayMs: number,
  event?: string,
): StreamEvent[] {
  const longest = choices.reduce((maximum, choice) => Math.max(maximum, piecesOf(choice).length), 0);
  const events: StreamEvent[] = [];
  for (let position = 0; position < longest; position += 1) {
    let delayBeforeMs = position === 0 ? firstDelayMs : interTokenDelayMs;
    for (const choice of choices) {
      const piece = piecesOf(choice)[position];
      if (piece !== undefined) {
        events.push(new TokenEvent(delayBeforeMs, encode, choice, piece, event));
        delayBeforeMs = 0;
      }
    }
  }
  return events;
}
