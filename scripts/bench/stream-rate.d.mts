// Types of stream-rate.mjs's pure parts, for the TypeScript tests that import them.
import type { SteadyWindowResult } from './stream-load.mjs';

export const MIN_DELIVERED_SHARE: number;
export const MAX_ADDED_GAP_P99_MS: number;
export const MIN_WINDOW_SECONDS: number;

export interface RateRun {
  target: string;
  eventsPerSecond: number;
  events: number;
  completed: number;
  failed: number;
  window?: SteadyWindowResult;
  proxy?: { cpuSeconds: number; cpuMicrosecondsPerEvent?: number };
  sustain: { sustained: boolean; deliveredShare?: number; reasons: string[] };
}

export function judgeSustained(result: Pick<RateRun, 'window'>, streams: number, rate: number): RateRun['sustain'];

export interface RateSweepSummary {
  rows: Array<{ target: string; rate: number; cpuMicrosecondsPerEvent?: number; toNginx?: number; perStreamMilliseconds?: number; sustained: boolean }>;
  perTarget: Array<{
    target: string;
    highestSustainedRate?: number;
    highestSustainedWithNginx?: number;
    toNginxAtHighest?: number;
    marginal?: { low: number; high: number; cpuMicrosecondsPerEvent: number; nginxCpuMicrosecondsPerEvent: number; toNginx?: number };
  }>;
}

export function rateSweepSummary(
  results: RateRun[],
  context: { streams: number; streamSeconds: number; window: { fromSeconds: number; toSeconds: number }; targets: string[] },
): RateSweepSummary;
