import { describe, expect, it } from 'vitest';
import { createWeightPolicy, DEFAULT_WEIGHT_POLICY, weightPolicyProblem } from './weight-policy.js';

describe('the weight policy', () => {
  it('has usable defaults', () => {
    expect(weightPolicyProblem(DEFAULT_WEIGHT_POLICY)).toBeUndefined();
    expect(DEFAULT_WEIGHT_POLICY).toMatchObject({ failuresToDown: 2, successesToRecover: 3, recoverySteps: 4 });
  });

  it('cannot be changed in place', () => {
    expect(Object.isFrozen(DEFAULT_WEIGHT_POLICY)).toBe(true);
  });

  it('applies overrides over the defaults', () => {
    const policy = createWeightPolicy({ failuresToDown: 3, smoothingFactor: 0.5 });
    expect(policy).toEqual({ ...DEFAULT_WEIGHT_POLICY, failuresToDown: 3, smoothingFactor: 0.5 });
  });

  it('rejects a value out of range, naming the field', () => {
    expect(() => createWeightPolicy({ failuresToDown: 0 })).toThrow(/failuresToDown must be an integer ≥ 1, got 0/);
    expect(() => createWeightPolicy({ recoverySteps: 1.5 })).toThrow(/recoverySteps/);
    expect(() => createWeightPolicy({ smoothingFactor: 0 })).toThrow(/smoothingFactor/);
    expect(() => createWeightPolicy({ minimumWeightFraction: 0 })).toThrow(/minimumWeightFraction/);
    expect(() => createWeightPolicy({ errorRateForMinimum: 0.05 })).toThrow(/errorRateForMinimum/);
    expect(() => createWeightPolicy({ latencyToleranceRatio: Number.NaN })).toThrow(/latencyToleranceRatio must be ≥ 1, got NaN/);
  });
});
