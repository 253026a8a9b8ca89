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
