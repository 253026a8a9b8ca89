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
}

export interface StreamLoadResult extends StreamTally {
  peakOpen: number;
  openedInSeconds: number;
  durationSeconds: number;
}

export function runStreamLoad(options: StreamLoadOptions): Promise<StreamLoadResult>;
