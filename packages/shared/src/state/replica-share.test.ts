import { describe, expect, it } from 'vitest';
import { ReplicaShare } from './replica-share.js';

describe('ReplicaShare', () => {
  it('keeps the most replicas seen within the last minute, so delayed heartbeats cannot raise the share', () => {
    let now = 0;
    const share = new ReplicaShare(() => now);
    expect(share.share()).toBe(1);
    share.observe(3);
    expect(share.share()).toBe(1 / 3);
    now += 30_000;
    share.observe(1);
    expect(share.share()).toBe(1 / 3);
    now += 30_000;
    share.observe(2);
    expect(share.share()).toBe(1 / 3);
    now += 1;
    share.observe(2);
    expect(share.share()).toBe(1 / 2);
  });

  it('follows a growing cluster at once', () => {
    let now = 0;
    const share = new ReplicaShare(() => now);
    share.observe(2);
    now += 1_000;
    share.observe(4);
    expect(share.share()).toBe(1 / 4);
  });
});
