import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DeploymentStats } from '../../state/rolling-stats.js';
import type { DeploymentHealth } from './deployment-health.js';
import { nextHealth, type HealthInput } from './next-health.js';
import { createWeightPolicy, DEFAULT_WEIGHT_POLICY, type WeightPolicy } from './weight-policy.js';
import { seededRandom } from '../../test-support/seeded-random.js';

const PROBE_INTERVAL_MS = 15_000;
const START = 1_700_000_000_000;

/** One simulated prober run: a probe result (or none), and optionally the replicas' stats. */
interface StepPlan {
  readonly probe?: 'ok' | 'fail';
  readonly latencyMs?: number;
  readonly stats?: DeploymentStats;
  readonly configuredWeight?: number;
}

/** Runs the plan from a fresh deployment, one probe interval per step; returns every step's record. */
function simulate(plan: readonly StepPlan[], options: { configuredWeight?: number; policy?: WeightPolicy; from?: DeploymentHealth; startAt?: number } = {}): DeploymentHealth[] {
  const history: DeploymentHealth[] = [];
  let health = options.from;
  let now = options.startAt ?? START;
  for (const step of plan) {
    now += PROBE_INTERVAL_MS;
    const input: HealthInput = {
      configuredWeight: step.configuredWeight ?? options.configuredWeight ?? 10,
      now,
      ...(step.probe === undefined ? {} : { probe: { ok: step.probe === 'ok', latencyMs: step.latencyMs ?? 200, at: now } }),
      ...(step.stats === undefined ? {} : { stats: step.stats }),
    };
    health = nextHealth(health, input, options.policy ?? DEFAULT_WEIGHT_POLICY);
    history.push(health);
  }
  return history;
}

function repeat(count: number, step: StepPlan): StepPlan[] {
  return Array.from({ length: count }, () => step);
}

function last<T>(list: readonly T[]): T {
  const item = list[list.length - 1];
  if (item === undefined) throw new Error('empty history');
  return item;
}

const cleanTraffic: DeploymentStats = { requests: 500, errorRate: 0.01, meanLatencyMs: 300 };


function randomPlan(random: () => number, length: number): StepPlan[] {
  return Array.from({ length }, () => {
    const roll = random();
    const probe = roll < 0.15 ? undefined : roll < 0.45 ? 'fail' : 'ok';
    const stats = random() < 0.5 ? { requests: Math.floor(random() * 200), errorRate: random() } : undefined;
    return {
      ...(probe === undefined ? {} : { probe }),
      latencyMs: random() < 0.2 ? random() * 5_000 : 100 + random() * 100,
      ...(stats === undefined ? {} : { stats }),
    };
  });
}

describe('a healthy deployment', () => {
  it('stays at its configured weight over 200 steps of successful probes and clean traffic', () => {
    const history = simulate(repeat(200, { probe: 'ok', stats: cleanTraffic }), { configuredWeight: 7 });
    for (const health of history) {
      expect(health.weight).toBe(7);
      expect(health.state).toBe('healthy');
      expect(health.score).toBe(1);
    }
  });

  it('stays at its configured weight on steps without a probe or with too little traffic', () => {
    const history = simulate([{ probe: 'ok' }, {}, { stats: { requests: 3, errorRate: 1 } }, { probe: 'ok' }]);
    expect(history.map((health) => health.weight)).toEqual([10, 10, 10, 10]);
  });

  it('starts healthy at its configured weight when the prober has never seen it', () => {
    const [first] = simulate([{}]);
    expect(first).toMatchObject({ state: 'healthy', weight: 10, score: 1, lastChangeAt: START + PROBE_INTERVAL_MS });
  });
});

describe('a deployment that dies', () => {
  it('reaches weight 0 on its second failed probe, within two probe intervals', () => {
    const history = simulate([...repeat(5, { probe: 'ok' }), { probe: 'fail' }, { probe: 'fail' }]);
    expect(history[5]!.weight).toBeGreaterThan(0);
    expect(history[6]).toMatchObject({ state: 'down', weight: 0, score: 0, consecutiveFailures: 2 });
  });

  it('reaches weight 0 within two failed probes from a degraded weight too', () => {
    const degraded = last(simulate(repeat(10, { probe: 'ok', stats: { requests: 100, errorRate: 0.3 } })));
    expect(degraded.state).toBe('degraded');
    expect(last(simulate(repeat(2, { probe: 'fail' }), { from: degraded, startAt: START + 1e6 })).weight).toBe(0);
  });

  it('stays at 0 for as long as its probes keep failing, whatever the stats say', () => {
    const history = simulate([{ probe: 'fail' }, ...repeat(50, { probe: 'fail', stats: cleanTraffic }), ...repeat(20, { stats: cleanTraffic })]);
    for (const health of history.slice(1)) expect(health).toMatchObject({ state: 'down', weight: 0 });
  });

  it('records when it went down and keeps that time while it stays down', () => {
    const history = simulate([{ probe: 'ok' }, { probe: 'fail' }, { probe: 'fail' }, { probe: 'fail' }]);
    const wentDownAt = START + 3 * PROBE_INTERVAL_MS;
    expect(history[2]!.lastChangeAt).toBe(wentDownAt);
    expect(history[3]!.lastChangeAt).toBe(wentDownAt);
    expect(history[3]!.lastProbeAt).toBe(START + 4 * PROBE_INTERVAL_MS);
  });
});

describe('a single failed probe of a healthy deployment', () => {
  it('lowers its weight without draining it', () => {
    const history = simulate([...repeat(3, { probe: 'ok' }), { probe: 'fail' }]);
    const afterFailure = last(history);
    expect(afterFailure.state).toBe('degraded');
    expect(afterFailure.weight).toBeGreaterThan(0);
    expect(afterFailure.weight).toBeLessThan(10);
    expect(afterFailure.weight).toBeCloseTo(7, 10);
  });

  it('never drops it to 0 when failures never come twice in a row', () => {
    const alternating = Array.from({ length: 100 }, (_, index): StepPlan => ({ probe: index % 2 === 0 ? 'fail' : 'ok' }));
    for (const health of simulate(alternating)) {
      expect(health.state).not.toBe('down');
      expect(health.weight).toBeGreaterThanOrEqual(DEFAULT_WEIGHT_POLICY.minimumWeightFraction * 10);
    }
  });

  it('returns it exactly to its configured weight after enough successes', () => {
    const history = simulate([{ probe: 'fail' }, ...repeat(15, { probe: 'ok' })]);
    const weights = history.map((health) => health.weight);
    for (let index = 1; index < weights.length; index += 1) expect(weights[index]!).toBeGreaterThanOrEqual(weights[index - 1]!);
    expect(last(history)).toMatchObject({ state: 'healthy', weight: 10, score: 1 });
  });
});

describe('a degrading deployment', () => {
  it('loses weight smoothly and monotonically as its error rate rises from 0% to 60%', () => {
    const rising = Array.from({ length: 40 }, (_, index): StepPlan => ({ probe: 'ok', stats: { requests: 200, errorRate: (index * 0.6) / 39 } }));
    const weights = simulate(rising).map((health) => health.weight);
    for (let index = 1; index < weights.length; index += 1) {
      expect(weights[index]!).toBeLessThanOrEqual(weights[index - 1]!);
      // Smooth: no single step takes more than a tenth of the configured weight.
      expect(weights[index - 1]! - weights[index]!).toBeLessThanOrEqual(1);
    }
    expect(weights[0]).toBe(10);
    expect(last(weights)).toBeLessThan(3);
  });

  it('loses weight in proportion to a sustained error rate above the threshold', () => {
    const settled = (errorRate: number) => last(simulate(repeat(60, { probe: 'ok', stats: { requests: 200, errorRate } }))).weight;
    expect(settled(0.05)).toBe(10);
    expect(settled(0.1)).toBeCloseTo(10 * (1 - 0.05 / 0.45), 1);
    expect(settled(0.2)).toBeCloseTo(10 * (1 - 0.15 / 0.45), 1);
    expect(settled(0.3)).toBeCloseTo(10 * (1 - 0.25 / 0.45), 1);
  });

  it('keeps the minimum weight fraction however bad its error rate, because stats alone never take it down', () => {
    const history = simulate(repeat(50, { probe: 'ok', stats: { requests: 1000, errorRate: 1 } }));
    expect(last(history)).toMatchObject({ state: 'degraded', weight: DEFAULT_WEIGHT_POLICY.minimumWeightFraction * 10 });
  });

  it('ignores the error rate below the minimum request volume', () => {
    const history = simulate(repeat(20, { probe: 'ok', stats: { requests: 19, errorRate: 1 } }));
    for (const health of history) expect(health.weight).toBe(10);
  });

  it('does not swing on one bad stats sample, and comes back to full weight after it', () => {
    const history = simulate([
      ...repeat(3, { probe: 'ok', stats: cleanTraffic }),
      { probe: 'ok', stats: { requests: 200, errorRate: 0.4 } },
      ...repeat(15, { probe: 'ok', stats: cleanTraffic }),
    ]);
    expect(history[3]!.weight).toBeGreaterThan(7);
    expect(history[3]!.state).toBe('degraded');
    expect(last(history)).toMatchObject({ state: 'healthy', weight: 10 });
  });
});

describe('a deployment whose probes slow down', () => {
  const baselineSteps = repeat(10, { probe: 'ok', latencyMs: 200 } as const);

  it('keeps its weight while latency stays within the tolerance of its baseline', () => {
    const history = simulate([...baselineSteps, ...repeat(10, { probe: 'ok', latencyMs: 390 })]);
    for (const health of history) expect(health.weight).toBe(10);
  });

  it('loses weight mildly, at most half of it from latency alone', () => {
    const history = simulate([...baselineSteps, ...repeat(6, { probe: 'ok', latencyMs: 5_000 })]);
    const slow = history.slice(10);
    expect(slow[0]!.weight).toBeCloseTo(8.5, 10);
    for (const health of slow) expect(health.weight).toBeGreaterThanOrEqual(5 - 1e-9);
    expect(last(slow).weight).toBeLessThan(8);
  });

  it('accepts a lasting slowdown as its new baseline and returns to full weight', () => {
    const history = simulate([...baselineSteps, ...repeat(80, { probe: 'ok', latencyMs: 800 })]);
    expect(history[14]!.weight).toBeLessThan(10);
    expect(last(history)).toMatchObject({ state: 'healthy', weight: 10 });
  });

  it('does not count jitter on a very fast backend as a slowdown', () => {
    const history = simulate([...repeat(10, { probe: 'ok', latencyMs: 2 }), ...repeat(10, { probe: 'ok', latencyMs: 40 })]);
    for (const health of history) expect(health.weight).toBe(10);
  });
});

describe('a deployment that recovers', () => {
  const dies = [...repeat(3, { probe: 'ok' } as const), { probe: 'fail' } as const, { probe: 'fail' } as const];

  it('needs successesToRecover successes in a row before any weight returns', () => {
    const history = simulate([...dies, { probe: 'ok' }, { probe: 'ok' }, { probe: 'ok' }]);
    expect(history[5]).toMatchObject({ state: 'down', weight: 0, consecutiveSuccesses: 1 });
    expect(history[6]).toMatchObject({ state: 'down', weight: 0, consecutiveSuccesses: 2 });
    expect(history[7]).toMatchObject({ state: 'recovering', weight: 2.5 });
  });

  it('climbs 25% → 50% → 75% → 100% of its configured weight, one step per successful probe', () => {
    const history = simulate([...dies, ...repeat(8, { probe: 'ok' })]);
    expect(history.slice(5).map((health) => [health.state, health.weight])).toEqual([
      ['down', 0],
      ['down', 0],
      ['recovering', 2.5],
      ['recovering', 5],
      ['recovering', 7.5],
      ['healthy', 10],
      ['healthy', 10],
      ['healthy', 10],
    ]);
  });

  it('does not climb on steps without a probe', () => {
    const history = simulate([...dies, ...repeat(3, { probe: 'ok' }), {}, { stats: cleanTraffic }, { probe: 'ok' }]);
    expect(history.slice(7).map((health) => health.weight)).toEqual([2.5, 2.5, 2.5, 5]);
  });

  it('is not brought back by a single success between failures', () => {
    const flapping = Array.from({ length: 40 }, (_, index): StepPlan => ({ probe: index % 2 === 0 ? 'ok' : 'fail' }));
    const history = simulate([...dies, ...flapping]);
    for (const health of history.slice(4)) expect(health).toMatchObject({ state: 'down', weight: 0 });
  });

  it('is not brought back by two successes between failures either', () => {
    const pattern = Array.from({ length: 30 }, (_, index): StepPlan => ({ probe: index % 3 === 2 ? 'fail' : 'ok' }));
    for (const health of simulate([...dies, ...pattern]).slice(4)) expect(health.weight).toBe(0);
  });

  it('goes back to 0 on a failure during the climb, and needs the full count of successes again', () => {
    const history = simulate([...dies, ...repeat(4, { probe: 'ok' }), { probe: 'fail' }, ...repeat(3, { probe: 'ok' })]);
    expect(history[8]).toMatchObject({ state: 'recovering', weight: 5 });
    expect(history[9]).toMatchObject({ state: 'down', weight: 0 });
    expect(history[10]!.weight).toBe(0);
    expect(history[11]!.weight).toBe(0);
    expect(history[12]).toMatchObject({ state: 'recovering', weight: 2.5 });
  });

  it('climbs more slowly when the traffic it gets back still shows errors', () => {
    const history = simulate([...dies, ...repeat(6, { probe: 'ok', stats: { requests: 100, errorRate: 0.2 } })]);
    const climbing = history.slice(7).map((health) => health.weight);
    expect(climbing[0]!).toBeLessThan(2.5);
    for (let index = 1; index < climbing.length; index += 1) expect(climbing[index]!).toBeGreaterThan(climbing[index - 1]!);
    expect(last(history).state).toBe('degraded');
  });

  it('follows the policy: 1 failure to go down, 1 success to come back, 2 ramp steps', () => {
    const policy = createWeightPolicy({ failuresToDown: 1, successesToRecover: 1, recoverySteps: 2 });
    const history = simulate([{ probe: 'fail' }, { probe: 'ok' }, { probe: 'ok' }], { policy });
    expect(history.map((health) => [health.state, health.weight])).toEqual([
      ['down', 0],
      ['recovering', 5],
      ['healthy', 10],
    ]);
  });
});

describe('the bounds', () => {
  it('never gives a weight above the configured one or below 0, nor a score outside [0, 1], over 20 random runs', () => {
    const random = seededRandom(2024);
    for (let run = 0; run < 20; run += 1) {
      const configuredWeight = Math.floor(random() * 20) / 2;
      for (const health of simulate(randomPlan(random, 300), { configuredWeight })) {
        expect(health.weight).toBeGreaterThanOrEqual(0);
        expect(health.weight).toBeLessThanOrEqual(configuredWeight);
        expect(health.score).toBeGreaterThanOrEqual(0);
        expect(health.score).toBeLessThanOrEqual(1);
        if (health.state !== 'down' && configuredWeight > 0) {
          expect(health.weight).toBeGreaterThanOrEqual(configuredWeight * DEFAULT_WEIGHT_POLICY.minimumWeightFraction - 1e-12);
        }
      }
    }
  });

  it('keeps a deployment configured with weight 0 at 0, whatever its probes do', () => {
    const plan = [...repeat(5, { probe: 'ok' } as const), ...repeat(3, { probe: 'fail' } as const), ...repeat(10, { probe: 'ok' } as const)];
    for (const health of simulate(plan, { configuredWeight: 0 })) expect(health.weight).toBe(0);
  });

  it('treats a negative or non-finite configured weight as 0', () => {
    expect(last(simulate([{ probe: 'ok' }], { configuredWeight: -3 })).weight).toBe(0);
    expect(last(simulate([{ probe: 'ok' }], { configuredWeight: Number.NaN })).weight).toBe(0);
    expect(last(simulate([{ probe: 'ok' }], { configuredWeight: Number.POSITIVE_INFINITY })).weight).toBe(0);
  });

  it('follows a changed configured weight at once, keeping the same share of it', () => {
    const history = simulate([{ probe: 'ok' }, { probe: 'fail' }, { probe: 'ok', configuredWeight: 20 }]);
    expect(history[1]!.weight).toBeCloseTo(7, 10);
    expect(history[2]!.weight).toBeCloseTo(20 * history[2]!.score, 10);
  });
});

describe('determinism', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('gives the same records for the same inputs', () => {
    const plan = randomPlan(seededRandom(99), 400);
    expect(simulate(plan, { configuredWeight: 3 })).toEqual(simulate(plan, { configuredWeight: 3 }));
  });

  it('reads neither the clock nor a random source', () => {
    vi.spyOn(Date, 'now').mockImplementation(() => {
      throw new Error('Date.now called');
    });
    vi.spyOn(Math, 'random').mockImplementation(() => {
      throw new Error('Math.random called');
    });
    expect(() => simulate(randomPlan(seededRandom(5), 100))).not.toThrow();
  });

  it('gives the same next step from a record that went through JSON, as it does when stored in Redis', () => {
    const random = seededRandom(11);
    const plan = randomPlan(random, 200);
    let direct: DeploymentHealth | undefined;
    let stored: string | undefined;
    let now = START;
    for (const step of plan) {
      now += PROBE_INTERVAL_MS;
      const input: HealthInput = {
        configuredWeight: 4,
        now,
        ...(step.probe === undefined ? {} : { probe: { ok: step.probe === 'ok', latencyMs: step.latencyMs ?? 200, at: now } }),
        ...(step.stats === undefined ? {} : { stats: step.stats }),
      };
      direct = nextHealth(direct, input);
      stored = JSON.stringify(nextHealth(stored === undefined ? undefined : (JSON.parse(stored) as DeploymentHealth), input));
      expect(JSON.parse(stored)).toEqual(direct);
    }
  });

  it('counts a probe once when the same step is run twice', () => {
    const probe = { ok: false, latencyMs: 100, at: START + 1 };
    const once = nextHealth(undefined, { configuredWeight: 10, probe, now: START + 2 });
    const twice = nextHealth(once, { configuredWeight: 10, probe, now: START + 3 });
    expect(twice.consecutiveFailures).toBe(1);
    expect(twice.state).toBe('degraded');
    expect(twice.weight).toBe(once.weight);
  });

  it('ignores a probe older than the last one counted', () => {
    const first = nextHealth(undefined, { configuredWeight: 10, probe: { ok: false, latencyMs: 100, at: START + 10 }, now: START + 10 });
    const late = nextHealth(first, { configuredWeight: 10, probe: { ok: false, latencyMs: 100, at: START + 5 }, now: START + 20 });
    expect(late.state).toBe('degraded');
    expect(late.lastProbeAt).toBe(START + 10);
  });
});
