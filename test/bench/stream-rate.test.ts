import { describe, expect, it } from 'vitest';
import { judgeSustained, MAX_ADDED_GAP_P99_MS, rateSweepSummary, type RateRun } from '../../scripts/bench/stream-rate.mjs';

const window = (events: number, cpuSeconds: number, gapP99 = 5) => ({
  openedAtSeconds: 3,
  seconds: 10,
  events,
  userSeconds: cpuSeconds / 2,
  systemSeconds: cpuSeconds / 2,
  addedGapMs: { samples: events, p50: 1, p99: gapP99, max: gapP99 },
});

describe('judgeSustained', () => {
  it('needs 95 % of streams × rate × window seconds delivered and a bounded p99 gap', () => {
    // 100 streams at 10 events/s over 10 s: 10,000 events expected.
    expect(judgeSustained({ window: window(9_500, 1) }, 100, 10)).toMatchObject({ sustained: true, reasons: [] });
    expect(judgeSustained({ window: window(9_400, 1) }, 100, 10).sustained).toBe(false);
    expect(judgeSustained({ window: window(10_000, 1, MAX_ADDED_GAP_P99_MS + 1) }, 100, 10).reasons[0]).toMatch(/p99 gap added/);
    expect(judgeSustained({ window: undefined }, 100, 10).sustained).toBe(false);
    // Streams answering late leave a window too short to judge by.
    expect(judgeSustained({ window: { ...window(400, 1), seconds: 0.4 } }, 100, 10).reasons[0]).toMatch(/steady window only 0.4 s/);
  });
});

describe('rateSweepSummary', () => {
  const run = (target: string, rate: number, events: number, cpuSeconds: number, wholeCpuSeconds: number, sustained = true): RateRun => ({
    target,
    eventsPerSecond: rate,
    events: events * 2,
    completed: 100,
    failed: 0,
    window: window(events, cpuSeconds),
    proxy: { cpuSeconds: wholeCpuSeconds, cpuMicrosecondsPerEvent: (wholeCpuSeconds * 1e6) / (events * 2) },
    sustain: { sustained, reasons: sustained ? [] : ['slow'] },
  });

  it('gives each target its ratio at the highest rate nginx also sustained, and the marginal cost between the two highest', () => {
    const summary = rateSweepSummary(
      [
        run('nginx', 10, 10_000, 0.1, 0.25),
        run('gateway', 10, 10_000, 0.4, 1.0),
        run('nginx', 20, 20_000, 0.18, 0.4),
        run('gateway', 20, 20_000, 0.7, 1.6),
        run('nginx', 40, 40_000, 0.34, 0.7),
        run('gateway', 40, 30_000, 0.9, 2.0, false),
      ],
      { streams: 100, streamSeconds: 20, window: { fromSeconds: 3, toSeconds: 19 }, targets: ['nginx', 'gateway'] },
    );

    const gateway = summary.perTarget.find((entry) => entry.target === 'gateway')!;
    expect(gateway.highestSustainedRate).toBe(20);
    expect(gateway.highestSustainedWithNginx).toBe(20);
    // 35 µs/event against nginx's 9 µs at 20 events/s.
    expect(gateway.toNginxAtHighest).toBeCloseTo(35 / 9, 6);
    // (0.7 − 0.4) s over 10,000 more events: 30 µs; nginx (0.18 − 0.1) s: 8 µs.
    expect(gateway.marginal).toMatchObject({ low: 10, high: 20 });
    expect(gateway.marginal!.cpuMicrosecondsPerEvent).toBeCloseTo(30, 6);
    expect(gateway.marginal!.toNginx).toBeCloseTo(30 / 8, 6);
    expect(summary.perTarget.find((entry) => entry.target === 'nginx')!.highestSustainedRate).toBe(40);
    // Whole run 1.0 s for 20,000 events at the window's 40 µs: 0.2 s left over 100 streams, 2 ms each.
    expect(summary.rows[1]!.perStreamMilliseconds).toBeCloseTo(2, 6);
  });
});
