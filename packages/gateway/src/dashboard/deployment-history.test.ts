import { describe, expect, it } from 'vitest';
import { DeploymentHistory, HISTORY_SAMPLES } from './deployment-history.js';

const sample = (requestsPerSecond: number) => ({ requestsPerSecond, errorRate: 0, p99LatencyMs: null, inFlight: 0, weight: 1 });

describe('the sparklines history', () => {
  it('keeps the last 15 minutes of samples, times in seconds', () => {
    const history = new DeploymentHistory();
    for (let index = 0; index < HISTORY_SAMPLES + 5; index += 1) history.record(index * 10_000, new Map([['sim/a', sample(index)]]));
    const series = history.seriesOf('sim/a');
    expect(series.time).toHaveLength(HISTORY_SAMPLES);
    expect(series.time[0]).toBe(50);
    expect(series.requestsPerSecond.at(-1)).toBe(HISTORY_SAMPLES + 4);
  });

  it('gives a deployment first seen later only its own samples', () => {
    const history = new DeploymentHistory();
    history.record(0, new Map([['sim/a', sample(1)]]));
    history.record(10_000, new Map([['sim/a', sample(2)], ['sim/b', sample(3)]]));
    expect(history.seriesOf('sim/b')).toMatchObject({ time: [10], requestsPerSecond: [3] });
    expect(history.seriesOf('sim/none').time).toEqual([]);
  });
});
