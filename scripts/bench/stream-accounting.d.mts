// Types of stream-accounting.mjs, for the TypeScript tests that import it.
export class SseEventSplitter {
  push(chunk: string): string[];
  readonly pendingLength: number;
}

export function isContentEvent(payload: string): boolean;
export function isErrorEvent(payload: string): boolean;

export interface StreamEnding {
  transportError?: string | undefined;
  timedOut?: boolean;
  cutMidEvent?: boolean;
}

export class StreamRecord {
  constructor(startedAt: number, intervalMs: number, gapSink: number[]);
  status: number | undefined;
  retryAfter: string | undefined;
  firstByteMs: number | undefined;
  events: number;
  onHeaders(status: number | undefined, retryAfter: string | undefined): void;
  onChunk(now: number, payloads: readonly string[]): void;
  outcome(ending: StreamEnding): string;
}

export interface Summary {
  samples: number;
  p50: number | undefined;
  p99: number | undefined;
  max: number | undefined;
}

export function percentile(sortedValues: ArrayLike<number>, p: number): number | undefined;
export function summarize(values: readonly number[]): Summary;

export interface StreamTally {
  streams: number;
  completed: number;
  failed: number;
  failures: Record<string, number>;
  events: number;
  refused: number;
  refusedWithRetryAfter: number;
  timeToFirstByteMs: Summary;
  addedGapMs: Summary;
}

export function tallyStreams(records: readonly StreamRecord[], outcomes: readonly string[], gaps: readonly number[]): StreamTally;
