import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../catalog/catalog.js';
import { testDeployment } from '../../test-support/deployments.js';
import { sessionDeployment } from './affinity.js';

const A = testDeployment('a/chat', { weight: 1 });
const B = testDeployment('b/chat', { weight: 1 });
const C = testDeployment('c/chat', { weight: 2 });
const ALL = [A, B, C];

const SESSIONS = Array.from({ length: 4_000 }, (_, index) => `session-${index}`);

/** Each session's deployment id among these candidates. */
const assign = (candidates: readonly Deployment[]): string[] => SESSIONS.map((session) => sessionDeployment(session, candidates)?.id ?? 'none');

function shares(assigned: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const id of assigned) counts[id] = (counts[id] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).map(([id, count]) => [id, count / assigned.length]));
}

describe('sessionDeployment', () => {
  it('gives one session the same deployment every time', () => {
    const first = sessionDeployment('user-42', ALL);
    for (let round = 0; round < 20; round += 1) expect(sessionDeployment('user-42', ALL)).toBe(first);
  });

  it('does not depend on the order of the candidates', () => {
    expect(assign([C, A, B])).toEqual(assign(ALL));
  });

  it('spreads sessions over the deployments in proportion to their configured weights', () => {
    const share = shares(assign(ALL));
    expect(share['a/chat']).toBeCloseTo(0.25, 1);
    expect(share['b/chat']).toBeCloseTo(0.25, 1);
    expect(share['c/chat']).toBeCloseTo(0.5, 1);
  });

  it('moves only the sessions of a deployment that leaves, and spreads them over the rest', () => {
    const before = assign(ALL);
    const after = assign([A, C]);
    const moved = SESSIONS.filter((_, index) => before[index] !== after[index]);
    expect(moved.length).toBe(before.filter((id) => id === 'b/chat').length);
    const movedTo = shares(after.filter((_, index) => before[index] === 'b/chat'));
    expect(movedTo['a/chat']).toBeGreaterThan(0.2);
    expect(movedTo['c/chat']).toBeGreaterThan(0.5);
  });

  it('brings the sessions back when the deployment returns', () => {
    const before = assign(ALL);
    assign([A, C]);
    expect(assign(ALL)).toEqual(before);
  });

  it('never picks a deployment with weight 0', () => {
    const drained = testDeployment('d/chat', { weight: 0 });
    expect(assign([A, drained]).every((id) => id === 'a/chat')).toBe(true);
  });

  it('is undefined with no candidates or only drained ones', () => {
    expect(sessionDeployment('user-42', [])).toBeUndefined();
    expect(sessionDeployment('user-42', [testDeployment('d/chat', { weight: 0 })])).toBeUndefined();
  });

  it('spreads sessions whose ids differ only in the last character', () => {
    const share = shares(Array.from({ length: 10 }, (_, digit) => sessionDeployment(`tenant-1-user-${digit}`, [A, B])?.id ?? 'none'));
    expect(Object.keys(share).sort()).toEqual(['a/chat', 'b/chat']);
  });
});
