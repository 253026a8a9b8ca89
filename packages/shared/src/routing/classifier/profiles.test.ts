import { describe, expect, it } from 'vitest';
import { classifyRequest } from './classify.js';
import { isVirtualModel, modelsForTier, VIRTUAL_MODELS, type TierProfiles } from './profiles.js';

const PROFILES: TierProfiles = {
  auto: {
    tiers: {
      SIMPLE: ['small', 'medium'],
      MEDIUM: ['medium', 'large'],
      COMPLEX: ['large', 'medium'],
      REASONING: ['reasoner', 'large'],
    },
    agenticTiers: { SIMPLE: ['medium-tools'], MEDIUM: ['large-tools', 'medium-tools'], COMPLEX: [] },
  },
  eco: {
    tiers: { SIMPLE: ['tiny', 'small'], MEDIUM: ['small', 'medium'], COMPLEX: ['medium', 'large'], REASONING: ['small-reasoner', 'reasoner'] },
  },
  premium: {
    tiers: { SIMPLE: ['medium', 'large'], MEDIUM: ['large', 'frontier'], COMPLEX: ['frontier', 'large'], REASONING: ['frontier-reasoner', 'reasoner'] },
  },
};

describe('the models for a tier', () => {
  it('are the tier list, in order: the first preferred, the rest the fallback order', () => {
    expect(modelsForTier(PROFILES.eco, 'COMPLEX', false)).toEqual(['medium', 'large']);
    expect(modelsForTier(PROFILES.premium, 'COMPLEX', false)).toEqual(['frontier', 'large']);
  });

  it('are the agentic list when the request offers tools and the profile has one for the tier', () => {
    expect(modelsForTier(PROFILES.auto, 'MEDIUM', true)).toEqual(['large-tools', 'medium-tools']);
    expect(modelsForTier(PROFILES.auto, 'MEDIUM', false)).toEqual(['medium', 'large']);
  });

  it('fall back to the tier list when the agentic list is missing or empty', () => {
    expect(modelsForTier(PROFILES.auto, 'REASONING', true)).toEqual(['reasoner', 'large']);
    expect(modelsForTier(PROFILES.auto, 'COMPLEX', true)).toEqual(['large', 'medium']);
    expect(modelsForTier(PROFILES.eco, 'SIMPLE', true)).toEqual(['tiny', 'small']);
  });

  it('are a new array each time, so a caller that reorders it changes nothing in the profile', () => {
    const models = modelsForTier(PROFILES.auto, 'SIMPLE', false);
    models.reverse();
    expect(modelsForTier(PROFILES.auto, 'SIMPLE', false)).toEqual(['small', 'medium']);
  });

  it('follow a classification: a greeting with tools on auto goes to the agentic SIMPLE list', () => {
    const classification = classifyRequest({
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ type: 'function', function: { name: 'lookup' } }],
    });
    expect(modelsForTier(PROFILES.auto, classification.tier, classification.agentic)).toEqual(['medium-tools']);
  });
});

describe('virtual model names', () => {
  it('are auto, eco and premium', () => {
    expect(VIRTUAL_MODELS).toEqual(['auto', 'eco', 'premium']);
    expect(VIRTUAL_MODELS.every(isVirtualModel)).toBe(true);
    expect([undefined, 'gpt-4o', 'AUTO', 1].some(isVirtualModel)).toBe(false);
  });
});
