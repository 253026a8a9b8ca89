import { describe, expect, it } from 'vitest';
import { StatsCounter } from './simulator-stats.js';

describe('StatsCounter', () => {
  it('counts models named like Object.prototype members as any other', () => {
    const stats = new StatsCounter();
    for (const model of ['toString', '__proto__', 'constructor', '__proto__']) stats.countModel(model);
    const { byModel } = stats.snapshot();
    expect(Object.entries(byModel).sort()).toEqual([['__proto__', 2], ['constructor', 1], ['toString', 1]]);
  });
});
