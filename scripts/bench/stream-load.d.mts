// Types of stream-load.mjs, for the TypeScript tests that import it.
import type { StreamTally } from './stream-accounting.mjs';

export interface StreamLoadOptions {
  url: string;
  /** The JSON request body. */
  body: string;
  headers?: Record<string, string>;
  streams: number;
  /** The simulator's configured gap between content events. */
  intervalMs: number;
  /** Default 0: every stream at once. */
  rampSeconds?: number;
  timeoutSeconds: number;
  /**
   * A steady window (seconds from the first stream opened; it opens no earlier than every stream's answer and closes
   * no later than the first stream's end): events, added gaps and the CPU of `pids` in it.
   */
  window?: { fromSeconds: number; toSeconds: number; pids: number[] };
}

export interface SteadyWindowResult {
  /** When every stream had answered (or `fromSeconds`, if later), from the first stream opened. */
  openedAtSeconds: number;
  seconds: number;
  events: number;
  userSeconds: number;
  systemSeconds: number;
  addedGapMs: StreamTally['addedGapMs'];
}

export interface StreamLoadResult extends StreamTally {
  peakOpen: number;
  openedInSeconds: number;
  durationSeconds: number;
  window?: SteadyWindowResult;
}

export function runStreamLoad(options: StreamLoadOptions): Promise<StreamLoadResult>;
