import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../catalog/catalog.js';
import { retryPolicySchema, type RetryPolicy } from '../../config/routing-schema.js';
import { GatewayError } from '../../errors/gateway-error.js';
import { seededRandom } from '../../test-support/seeded-random.js';
import { testDeployment } from '../../test-support/deployments.js';
import type { RandomSource } from '../types.js';
import { AttemptSequence, failureKind, type NextAttempt } from './attempts.js';

const A = testDeployment('a/chat');
const B = testDeployment('b/chat');
const C = testDeployment('c/chat');

/** Backoff 100 ms doubling up to 1 s, 10 attempts, 10 s deadline, unless `policy` says otherwise. */
const policyOf = (policy: Partial<RetryPolicy> = {}): RetryPolicy =>
  retryPolicySchema.parse({ attempts: 10, initialBackoffMs: 100, maxBackoffMs: 1_000, deadlineMs: 10_000, ...policy });

/** A random source that always draws `value`: 0 waits half the backoff ceiling. */
const always = (value: number): RandomSource => () => value;

function sequence(planned: readonly Deployment[], policy: Partial<RetryPolicy> = {}, options: { startedAt?: number; random?: RandomSource } = {}) {
  return new AttemptSequence(planned, policyOf(policy), options.startedAt ?? 0, options.random ?? always(0));
}

/** The next attempt as `deployment id +delay`, or undefined when the sequence is over. */
const describeNext = (next: NextAttempt | undefined): string | undefined => (next ? `${next.deployment.id} +${next.delayMs}` : undefined);

/** Takes every next attempt at `now` and fails it with `kind`, returning what was attempted. */
function failAll(attempts: AttemptSequence, kind: Parameters<AttemptSequence['failed']>[1], now = 0): string[] {
  const tried: string[] = [];
  for (let next = attempts.next(now); next?.delayMs === 0; next = attempts.next(now)) {
    tried.push(next.deployment.id);
    attempts.failed(next.deployment, kind, now);
  }
  return tried;
}

describe('AttemptSequence: the first round', () => {
  it('tries every planned deployment once, in plan order, without waiting', () => {
    const attempts = sequence([A, B, C]);
    expect(failAll(attempts, 'retry')).toEqual(['a/chat', 'b/chat', 'c/chat']);
    expect(attempts.attempts).toBe(3);
  });

  it('moves on to a deployment not yet tried before retrying one that failed', () => {
    const attempts = sequence([A, B]);
    attempts.failed(A, 'retry', 0);
    expect(describeNext(attempts.next(500))).toBe('b/chat +0');
  });

  it('stops after a success', () => {
    const attempts = sequence([A, B]);
    attempts.succeeded(A);
    expect(attempts.next(0)).toBeUndefined();
    expect(attempts.attempts).toBe(1);
  });

  it('has nothing to do for an empty plan', () => {
    expect(sequence([]).next(0)).toBeUndefined();
  });
});

describe('AttemptSequence: retries', () => {
  it('retries a failed deployment after its backoff', () => {
    const attempts = sequence([A]);
    attempts.failed(A, 'retry', 1_000);
    expect(describeNext(attempts.next(1_000))).toBe('a/chat +50');
    expect(describeNext(attempts.next(1_030))).toBe('a/chat +20');
    expect(describeNext(attempts.next(2_000))).toBe('a/chat +0');
  });

  it('retries the deployment whose wait ends first', () => {
    const attempts = sequence([A, B]);
    attempts.failed(A, 'retry', 0, 400);
    attempts.failed(B, 'retry', 10);
    expect(describeNext(attempts.next(20))).toBe('b/chat +40');
  });

  it('doubles the wait on each further failure of the same deployment', () => {
    const attempts = sequence([A]);
    const waits: number[] = [];
    let now = 0;
    for (let failure = 0; failure < 6; failure += 1) {
      attempts.failed(A, 'retry', now);
      const next = attempts.next(now)!;
      waits.push(next.delayMs);
      now += next.delayMs;
    }
    // Half of 100, 200, 400, 800, then the 1 s cap.
    expect(waits).toEqual([50, 100, 200, 400, 500, 500]);
  });

  it('waits for the backend\'s retry-after when it is longer than the backoff', () => {
    const attempts = sequence([A, B]);
    attempts.failed(A, 'retry', 0, 3_000);
    attempts.failed(B, 'retry', 0, 10);
    expect(describeNext(attempts.next(0))).toBe('b/chat +50');
    attempts.failed(B, 'failover', 0);
    expect(describeNext(attempts.next(0))).toBe('a/chat +3000');
  });

  it('stops at the attempts cap, untried deployments or not', () => {
    const attempts = sequence([A, B, C], { attempts: 2 });
    expect(failAll(attempts, 'retry')).toEqual(['a/chat', 'b/chat']);
    expect(attempts.next(10_000)).toBeUndefined();
    expect(attempts.attempts).toBe(2);
  });
});

describe('AttemptSequence: backoffMs', () => {
  it('is the ceiling initial × 2^(retry−1), capped at maxBackoffMs, between half and all of it', () => {
    const ceilings = [100, 200, 400, 800, 1_000, 1_000];
    const low = sequence([], {}, { random: always(0) });
    const high = sequence([], {}, { random: always(0.999_999) });
    ceilings.forEach((ceiling, index) => {
      expect(low.backoffMs(index + 1)).toBe(ceiling / 2);
      expect(high.backoffMs(index + 1)).toBe(ceiling);
    });
  });

  it('spreads its jitter over the whole range from half to all', () => {
    const attempts = sequence([], { initialBackoffMs: 1_000, maxBackoffMs: 1_000 }, { random: seededRandom(3) });
    const waits = Array.from({ length: 1_000 }, () => attempts.backoffMs(1));
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(500);
    expect(Math.max(...waits)).toBeLessThanOrEqual(1_000);
    expect(Math.min(...waits)).toBeLessThan(520);
    expect(Math.max(...waits)).toBeGreaterThan(980);
  });
});

describe('AttemptSequence: the deadline', () => {
  it('starts no attempt after the deadline, counted from when the request arrived', () => {
    const attempts = sequence([A, B], { deadlineMs: 1_000 }, { startedAt: 5_000 });
    expect(describeNext(attempts.next(6_000))).toBe('a/chat +0');
    expect(attempts.next(6_001)).toBeUndefined();
  });

  it('does not wait for a retry that would start after the deadline', () => {
    const attempts = sequence([A], { deadlineMs: 1_000 });
    attempts.failed(A, 'retry', 100, 2_000);
    expect(attempts.next(100)).toBeUndefined();
  });

  it('still makes a wait that ends exactly at the deadline', () => {
    const attempts = sequence([A], { deadlineMs: 1_000 });
    attempts.failed(A, 'retry', 0, 1_000);
    expect(describeNext(attempts.next(0))).toBe('a/chat +1000');
  });

  it('drops only the waits that end too late', () => {
    const attempts = sequence([A, B], { deadlineMs: 1_000 });
    attempts.failed(A, 'retry', 0, 5_000);
    attempts.failed(B, 'retry', 0, 600);
    expect(describeNext(attempts.next(0))).toBe('b/chat +600');
  });
});

describe('AttemptSequence: failure kinds', () => {
  it('stops at a final failure, untried deployments or not', () => {
    const attempts = sequence([A, B]);
    attempts.failed(A, 'final', 0);
    expect(attempts.next(0)).toBeUndefined();
  });

  it('fails over without ever retrying the same deployment', () => {
    const attempts = sequence([A, B]);
    attempts.failed(A, 'failover', 0);
    const tried: string[] = [];
    for (let next = attempts.next(0), now = 0; next; next = attempts.next(now)) {
      tried.push(next.deployment.id);
      now += next.delayMs;
      attempts.failed(next.deployment, 'retry', now);
    }
    expect(tried.length).toBeGreaterThan(1);
    expect(new Set(tried)).toEqual(new Set(['b/chat']));
  });

  it('drops a pending retry of a deployment that then fails over', () => {
    const attempts = sequence([A, B]);
    attempts.failed(A, 'retry', 0);
    attempts.failed(B, 'retry', 0);
    attempts.next(0);
    attempts.failed(A, 'failover', 50);
    expect(describeNext(attempts.next(50))).toBe('b/chat +0');
    attempts.failed(B, 'failover', 50);
    expect(attempts.next(50)).toBeUndefined();
  });

  describe('after a context-length failure', () => {
    const SMALL = testDeployment('a/small', { contextWindow: 8_000 });
    const MID = testDeployment('b/mid', { contextWindow: 32_000 });
    const SAME_SIZE = testDeployment('c/mid', { contextWindow: 32_000 });
    const LARGE = testDeployment('d/large', { contextWindow: 200_000 });

    it('goes only to deployments with a strictly larger context window', () => {
      const attempts = sequence([MID, SMALL, SAME_SIZE, LARGE]);
      attempts.failed(MID, 'larger_context', 0);
      expect(describeNext(attempts.next(0))).toBe('d/large +0');
      attempts.failed(LARGE, 'larger_context', 0);
      expect(attempts.next(0)).toBeUndefined();
    });

    it('drops pending retries of deployments no larger than the one that failed', () => {
      const attempts = sequence([SMALL, MID]);
      attempts.failed(SMALL, 'retry', 0);
      attempts.failed(MID, 'larger_context', 0);
      expect(attempts.next(0)).toBeUndefined();
    });

    it('never retries the deployment whose context was too small', () => {
      const attempts = sequence([SMALL]);
      attempts.failed(SMALL, 'larger_context', 0);
      expect(attempts.next(10_000)).toBeUndefined();
    });
  });
});

describe('AttemptSequence: skipped deployments', () => {
  it('moves on without counting the attempt', () => {
    const attempts = sequence([A, B, C], { attempts: 2 });
    attempts.skipped(A);
    expect(attempts.attempts).toBe(0);
    expect(failAll(attempts, 'retry')).toEqual(['b/chat', 'c/chat']);
  });

  it('does not come back to a skipped deployment', () => {
    const attempts = sequence([A, B]);
    attempts.failed(A, 'retry', 0);
    attempts.skipped(A);
    expect(describeNext(attempts.next(0))).toBe('b/chat +0');
    attempts.failed(B, 'failover', 0);
    expect(attempts.next(0)).toBeUndefined();
  });
});

describe('failureKind', () => {
  const failure = (status: number, code: string) => failureKind(new GatewayError('upstream failed', { status, code }));

  it('asks for a larger context on a 400 context-length error', () => {
    expect(failure(400, 'context_length_exceeded')).toBe('larger_context');
    expect(failure(400, 'string_above_max_length')).toBe('larger_context');
  });

  it('fails over on a credential the backend refused or an open circuit', () => {
    expect(failure(401, 'upstream_authentication_failed')).toBe('failover');
    expect(failure(503, 'circuit_open')).toBe('retry');
  });

  it('retries what is retryable: 408, 429, 5xx, unreachable backends', () => {
    for (const status of [408, 429, 500, 502, 503, 504]) expect(failure(status, 'upstream_error')).toBe('retry');
    expect(failureKind({ status: 200, code: 'empty_response', retryable: true })).toBe('retry');
  });

  it('is final for the request\'s own faults: 400, 404, 422 and content-policy rejections', () => {
    for (const status of [400, 404, 422]) expect(failure(status, 'invalid_request')).toBe('final');
    expect(failure(400, 'content_policy_violation')).toBe('final');
  });

  it('reads a context-length code on another status as what the status says', () => {
    expect(failure(500, 'context_length_exceeded')).toBe('retry');
    expect(failureKind({ status: 413, code: 'context_length_exceeded', retryable: false })).toBe('final');
  });

  it('goes by retryable alone without a code', () => {
    expect(failureKind({ status: 502, code: null, retryable: true })).toBe('retry');
    expect(failureKind({ status: 400, retryable: false })).toBe('final');
  });
});

describe('AttemptSequence: order', () => {
  const F = testDeployment('f/fallback');
  const modelFirst = (planned: readonly Deployment[], primaryCount: number, policy: Partial<RetryPolicy> = {}) =>
    new AttemptSequence(planned, policyOf({ order: 'model-first', ...policy }), 0, always(0), primaryCount);

  describe('with model-first', () => {
    it('tries the requested model\'s other deployments, then retries them, before the fallback', () => {
      const attempts = modelFirst([A, B, F], 2);
      expect(failAll(attempts, 'retry')).toEqual(['a/chat', 'b/chat']);
      expect(describeNext(attempts.next(0))).toBe('a/chat +50');
    });

    it('waits out a retry-after on the requested model rather than falling back at once', () => {
      const attempts = modelFirst([A, F], 1);
      attempts.failed(A, 'retry', 0, 1_050);
      expect(describeNext(attempts.next(0))).toBe('a/chat +1050');
    });

    it('keeps the last attempt for the fallback chain', () => {
      const attempts = modelFirst([A, F], 1, { attempts: 3 });
      attempts.failed(A, 'retry', 0);
      expect(describeNext(attempts.next(0))).toBe('a/chat +50');
      attempts.failed(A, 'retry', 50);
      expect(describeNext(attempts.next(50))).toBe('f/fallback +0');
    });

    it('falls back once the requested model has nothing left within the deadline', () => {
      const attempts = modelFirst([A, F], 1, { deadlineMs: 1_000 });
      attempts.failed(A, 'retry', 0, 5_000);
      expect(describeNext(attempts.next(0))).toBe('f/fallback +0');
    });

    it('waits for the requested model\'s deployment held open by a 429 before the fallback', () => {
      const attempts = modelFirst([F], 0);
      attempts.waitFor(A, 800);
      expect(describeNext(attempts.next(0))).toBe('a/chat +800');
      expect(attempts.attempts).toBe(0);
    });

    it('does not wait for one whose circuit stays open past the deadline', () => {
      const attempts = modelFirst([F], 0, { deadlineMs: 500 });
      attempts.waitFor(A, 800);
      expect(describeNext(attempts.next(0))).toBe('f/fallback +0');
    });
  });

  describe('with spread', () => {
    it('falls over to the fallback at once, before any retry', () => {
      const attempts = new AttemptSequence([A, F], policyOf({ order: 'spread' }), 0, always(0), 1);
      attempts.failed(A, 'retry', 0, 1_050);
      expect(describeNext(attempts.next(0))).toBe('f/fallback +0');
    });
  });
});

describe('failureKind with a longest retry-after worth waiting for', () => {
  it('fails over, without a retry, when the backend asks for a longer wait', () => {
    expect(failureKind({ status: 429, retryable: true, retryAfterMs: 30_000 }, 10_000)).toBe('failover');
    expect(failureKind({ status: 429, retryable: true, retryAfterMs: 2_000 }, 10_000)).toBe('retry');
  });
});
