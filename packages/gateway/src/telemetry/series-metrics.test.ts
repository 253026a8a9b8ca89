import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SeriesCounter, SeriesHistogram } from './series-metrics.js';

const BOUNDS = [0.01, 0.1, 1];

describe('series metrics', () => {
  it('expose the same text as prom-client’s own counter and histogram given the same updates', async () => {
    const ours = new Registry();
    const counter = new SeriesCounter<'route' | 'status'>('requests_total', 'Requests.', ours);
    const histogram = new SeriesHistogram<'model'>('duration_seconds', 'Durations.', ours, BOUNDS);
    const reference = new Registry();
    const referenceCounter = new Counter({ name: 'requests_total', help: 'Requests.', labelNames: ['route', 'status'], registers: [reference] });
    const referenceHistogram = new Histogram({ name: 'duration_seconds', help: 'Durations.', labelNames: ['model'], buckets: BOUNDS, registers: [reference] });

    for (const [route, status] of [['/a', '200'], ['/a', '200'], ['/b', '500']] as const) {
      counter.seriesOf(`${route} ${status}`, { route, status }).value += 1;
      referenceCounter.inc({ route, status });
    }
    // On a bound, between bounds, above all of them.
    for (const [model, seconds] of [['m', 0.01], ['m', 0.05], ['m', 5], ['n', 0.5]] as const) {
      histogram.seriesOf(model, { model }).observe(seconds);
      referenceHistogram.observe({ model }, seconds);
    }

    expect(await ours.metrics()).toBe(await reference.metrics());
  });
});
