import { describe, expect, it } from 'vitest';
import { addSample, emptyTotals, summarize } from './rolling-stats.js';

describe('rolling stats: the time to first token percentiles', () => {
  it('gives each percentile as the upper bound of the histogram bucket it falls in', () => {
    const totals = emptyTotals();
    for (let index = 0; index < 90; index += 1) addSample(totals, { ok: true, latencyMs: 500, ttftMs: 80 });
    for (let index = 0; index < 9; index += 1) addSample(totals, { ok: true, latencyMs: 900, ttftMs: 700 });
    addSample(totals, { ok: true, latencyMs: 9_000, ttftMs: 8_000 });
    expect(summarize(totals).ttftPercentilesMs).toEqual({ p50: 100, p90: 100, p95: 750, p99: 750 });
  });

  it('has none without a stream in the window, and none past the last finite bound', () => {
    expect(summarize(emptyTotals()).ttftPercentilesMs).toBeUndefined();
    const slow = emptyTotals();
    addSample(slow, { ok: true, latencyMs: 9_000, ttftMs: 8_000 });
    expect(summarize(slow).ttftPercentilesMs?.p50).toBeUndefined();
  });
});

describe('rolling stats: latency percentiles, queue waits and cost', () => {
  it('gives p50 and p99 of the latency as histogram bucket bounds', () => {
    const totals = emptyTotals();
    for (let index = 0; index < 98; index += 1) addSample(totals, { ok: true, latencyMs: 150 });
    addSample(totals, { ok: true, latencyMs: 1_500 });
    addSample(totals, { ok: false, latencyMs: 70_000 });
    expect(summarize(totals).latencyPercentilesMs).toEqual({ p50: 200, p99: 2_000 });
  });

  it('averages the waits of the requests that waited only, and sums the cost', () => {
    const totals = emptyTotals();
    addSample(totals, { ok: true, latencyMs: 10, queueWaitMs: 30, costUsd: 0.001 });
    addSample(totals, { ok: true, latencyMs: 10, queueWaitMs: 10, costUsd: 0.0005 });
    addSample(totals, { ok: true, latencyMs: 10 });
    const stats = summarize(totals);
    expect(stats.queueWait).toEqual({ meanMs: 20, requests: 2 });
    expect(stats.costUsd).toBeCloseTo(0.0015, 12);
  });

  it('has none of them in an empty window', () => {
    const stats = summarize(emptyTotals());
    expect([stats.latencyPercentilesMs, stats.queueWait, stats.costUsd]).toEqual([undefined, undefined, undefined]);
  });
});
