/** One sample of a deployment's figures, for the sparklines. */
export interface DeploymentSample {
  readonly requestsPerSecond: number;
  readonly errorRate: number;
  readonly p99LatencyMs: number | null;
  readonly inFlight: number;
  readonly weight: number;
}

/** The sparklines' series: sample times (seconds since the epoch, as uPlot reads them) and one array per figure. */
export interface DeploymentSeries {
  readonly time: number[];
  readonly requestsPerSecond: number[];
  readonly errorRate: number[];
  readonly p99LatencyMs: (number | null)[];
  readonly inFlight: number[];
  readonly weight: number[];
}

/** 15 minutes of samples, one every 10 seconds (the rolling stats' bucket). */
export const HISTORY_SAMPLE_MS = 10_000;
export const HISTORY_SAMPLES = 90;

/**
 * The last 15 minutes of every deployment's figures, sampled from the routing snapshot (cluster-wide in cluster
 * mode) every 10 s by the dashboard's timer: a fixed number of samples per deployment, never per request.
 */
export class DeploymentHistory {
  private readonly times: number[] = [];
  private readonly series = new Map<string, DeploymentSample[]>();

  /** Adds one sample per deployment taken at `atMs` (every sample names every deployment); the oldest go past HISTORY_SAMPLES. */
  record(atMs: number, samples: ReadonlyMap<string, DeploymentSample>): void {
    this.times.push(Math.round(atMs / 1000));
    for (const [id, sample] of samples) {
      const list = this.series.get(id);
      if (!list) {
        // A deployment first seen now has no past: its series starts here (seriesOf aligns it with the newest times).
        this.series.set(id, [sample]);
        continue;
      }
      list.push(sample);
    }
    if (this.times.length > HISTORY_SAMPLES) {
      this.times.shift();
      for (const list of this.series.values()) if (list.length > HISTORY_SAMPLES) list.shift();
    }
  }

  seriesOf(id: string): DeploymentSeries {
    const list = this.series.get(id) ?? [];
    const offset = this.times.length - list.length;
    return {
      time: this.times.slice(offset),
      requestsPerSecond: list.map((sample) => sample.requestsPerSecond),
      errorRate: list.map((sample) => sample.errorRate),
      p99LatencyMs: list.map((sample) => sample.p99LatencyMs),
      inFlight: list.map((sample) => sample.inFlight),
      weight: list.map((sample) => sample.weight),
    };
  }
}
