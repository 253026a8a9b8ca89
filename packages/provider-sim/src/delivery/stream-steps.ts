import type { StreamEvent } from './event-stream.js';

/** Events that a model emits at the same moment, e.g. token t of every choice when n > 1. */
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
 * One step per token position, interleaving the choices by index. The first position waits `firstDelayMs`, the
 * others `interTokenDelayMs`; choices that already ended are skipped.
 */
export function tokenSteps<Choice>(
  choices: readonly Choice[],
  piecesOf: (choice: Choice) => readonly string[],
  encode: (choice: Choice, piece: string) => string,
  firstDelayMs: number,
  interTokenDelayMs: number,
): StreamStep[] {
  const longest = choices.reduce((maximum, choice) => Math.max(maximum, piecesOf(choice).length), 0);
  const steps: StreamStep[] = [];
  for (let position = 0; position < longest; position += 1) {
    const payloads: string[] = [];
    for (const choice of choices) {
      const piece = piecesOf(choice)[position];
      if (piece !== undefined) {
        payloads.push(encode(choice, piece));
      }
    }
    steps.push({ delayBeforeMs: position === 0 ? firstDelayMs : interTokenDelayMs, payloads });
  }
  return steps;
}
