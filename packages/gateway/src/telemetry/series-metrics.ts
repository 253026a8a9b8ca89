import type { Registry } from 'prom-client';

/**
 * Counters and histograms for the metrics every request updates, kept as plain numbers per series and handed to
 * prom-client's registry only when it is scraped. prom-client's own `labels()` children validate and hash their
 * label set again on every `inc` and `observe` (prom-client 15): a few microseconds per request for the five series
 * a request touches. Here a caller looks its series up once (by a key of its own) and updates numbers. The
 * exposition is prom-client's: the registry formats what `get()` returns, as it does for its own metrics.
 */

type Labels<Name extends string> = Readonly<Record<Name, string>>;

interface ExposedValue {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName?: string;
}

interface Exposed {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly values: ExposedValue[];
  readonly aggregator: 'sum';
}

abstract class SeriesMetric<Name extends string, Series> {
  protected readonly series = new Map<string, { readonly labels: Labels<Name>; readonly data: Series }>();

  constructor(
    readonly name: string,
    readonly help: string,
    registry: Registry,
  ) {
    // The registry needs only `name` and `get()` of a metric (and `reset()` when asked to reset all).
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** The series of `labels`, made on first use; `key` must differ between label sets (callers keep one per set). */
  seriesOf(key: string, labels: Labels<Name>): Series {
    let entry = this.series.get(key);
    if (!entry) {
      entry = { labels, data: this.create() };
      this.series.set(key, entry);
    }
    return entry.data;
  }

  reset(): void {
    this.series.clear();
  }

  protected abstract create(): Series;
}

/** One counter series: add to `value`. */
export interface CounterSeries {
  value: number;
}

export class SeriesCounter<Name extends string> extends SeriesMetric<Name, CounterSeries> {
  get(): Promise<Exposed> {
    const values = [...this.series.values()].map(({ labels, data }) => ({ labels: { ...labels }, value: data.value }));
    return Promise.resolve({ name: this.name, help: this.help, type: 'counter', values, aggregator: 'sum' });
  }

  protected create(): CounterSeries {
    return { value: 0 };
  }
}

/** One histogram series: counts per bucket (not cumulative), their sum and count. */
export class HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    // One more than the bounds: the last counts what is above every bound (+Inf).
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const { bounds } = this;
    let index = 0;
    while (index < bounds.length && value > bounds[index]!) index += 1;
    this.counts[index]! += 1;
    this.sum += value;
    this.count += 1;
  }
}

export class SeriesHistogram<Name extends string> extends SeriesMetric<Name, HistogramSeries> {
  constructor(
    name: string,
    help: string,
    registry: Registry,
    private readonly bounds: readonly number[],
  ) {
    super(name, help, registry);
  }

  /** Prometheus's histogram exposition: cumulative `_bucket` series by `le`, then `_sum` and `_count`, per series. */
  get(): Promise<Exposed> {
    const values: ExposedValue[] = [];
    for (const { labels, data } of this.series.values()) {
      let cumulative = 0;
      this.bounds.forEach((bound, index) => {
        cumulative += data.counts[index]!;
        values.push({ labels: { le: bound, ...labels }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', ...labels }, value: data.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { ...labels }, value: data.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...labels }, value: data.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' });
  }

  protected create(): HistogramSeries {
    return new HistogramSeries(this.bounds);
  }
}
