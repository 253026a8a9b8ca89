import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { RoutePlan } from '@dosrouter/shared';
import { eventually } from '../../../shared/src/test-support/eventually.js';
import type { RequestOutcome } from '../proxy/request-outcome.js';
import { RecentRequests } from './recent-requests.js';

const outcome = (requestId: string, extra: Partial<RequestOutcome> = {}): RequestOutcome => ({
  requestId,
  route: '/v1/chat/completions',
  receivedAt: 1_000,
  attempts: 1,
  requestedModel: 'fast',
  model: 'fast',
  deployment: 'sim/fast',
  usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 },
  costUsd: 0.001,
  keyId: 'key_a',
  ...extra,
});

const ring = (capacity: number, includePrompts = false) =>
  new RecentRequests({ capacity, replica: 'gateway-1', includePrompts, clock: () => 1_100, wallClock: () => 1_700_000_000_000 });

const body = { model: 'fast', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'the secret prompt' }] };

describe('the recent-requests ring', () => {
  it('keeps no request text through an entry’s plan: a ring of requests must not hold their prompts', async () => {
    setFlagsFromString('--expose-gc');
    const collectGarbage = runInNewContext('gc') as () => void;
    const recent = ring(3);
    let facts: WeakRef<object> | undefined;
    (() => {
      // The plan's facts carry the last user message whole (rules match it): up to the body limit.
      const plan = { target: 'fast', targetKind: 'model', strategy: { name: 'weighted' }, steps: [], attempts: [], keptDrained: false, facts: { lastUserText: 'the secret prompt'.repeat(1_000), profile: {}, metadata: {} } };
      facts = new WeakRef(plan.facts);
      recent.add(outcome('a'), plan as unknown as RoutePlan, body, 200, 1_050);
    })();
    await eventually(() => {
      collectGarbage();
      return facts!.deref() === undefined;
    }, 5_000, 'the plan’s facts collected');
    expect(recent.list()[0]!.routing).toMatchObject({ target: { kind: 'model', name: 'fast' }, strategy: 'weighted' });
  });

  it('keeps the newest `capacity` requests, newest first', () => {
    const recent = ring(3);
    for (const id of ['a', 'b', 'c', 'd']) recent.add(outcome(id), undefined, body, 200, 1_050);
    expect(recent.list().map((entry) => entry.id)).toEqual(['d', 'c', 'b']);
  });

  it('hands each entry to the poll once, and at most the capacity after a burst', () => {
    const recent = ring(3);
    recent.add(outcome('a'), undefined, body, 200, 1_050);
    expect(recent.takeUnsent().map((entry) => entry.id)).toEqual(['a']);
    expect(recent.takeUnsent()).toEqual([]);
    for (const id of ['b', 'c', 'd', 'e', 'f']) recent.add(outcome(id), undefined, body, 200, 1_050);
    expect(recent.takeUnsent().map((entry) => entry.id)).toEqual(['f', 'e', 'd']);
  });

  it('dates an entry by the wall clock, and measures its latency to the response close', () => {
    const [entry] = ring(2).list();
    expect(entry).toBeUndefined();
    const recent = ring(2);
    recent.add(outcome('a', { attemptLog: [{ deployment: 'sim/fast', outcome: 'ok' }] }), undefined, body, 200, 1_050);
    expect(recent.list()[0]).toMatchObject({
      id: 'a',
      replica: 'gateway-1',
      at: 1_700_000_000_000 - 50,
      latencyMs: 50,
      promptTokens: 10,
      completionTokens: 5,
      costUsd: 0.001,
      keyId: 'key_a',
      attempts: [{ deployment: 'sim/fast', outcome: 'ok' }],
      routing: null,
    });
  });

  it('keeps no prompt text unless told to, then only the start of the last user message', () => {
    const closed = ring(2);
    closed.add(outcome('a'), undefined, body, 200, 1_050);
    expect(JSON.stringify(closed.list())).not.toContain('secret');
    const open = ring(2, true);
    open.add(outcome('a'), undefined, { messages: [{ role: 'user', content: 'x'.repeat(800) }] }, 200, 1_050);
    expect(open.list()[0]!.prompt).toBe('x'.repeat(500));
  });

  it('keeps nothing with a capacity of 0', () => {
    const recent = ring(0);
    recent.add(outcome('a'), undefined, body, 200, 1_050);
    expect([recent.list(), recent.takeUnsent()]).toEqual([[], []]);
  });
});
