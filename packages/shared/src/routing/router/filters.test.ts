import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../catalog/catalog.js';
import type { Capability } from '../../config/schema.js';
import { testDeployment } from '../../test-support/deployments.js';
import type { RequestProfile } from '../strategies/request-profile.js';
import { EMPTY_SNAPSHOT, type RoutingSnapshot } from '../types.js';
import { FILTER_NAMES, isHealthFilter, judgeCandidate, type FilterInput } from './filters.js';

const deployment = (overrides: Partial<Deployment> = {}): Deployment =>
  testDeployment('b/chat', { model: 'chat', contextWindow: 8_000, maxOutputTokens: 2_000, ...overrides });

const withCapabilities = (...capabilities: Capability[]): Deployment => deployment({ capabilities: new Set(capabilities) });

const request = (overrides: Partial<RequestProfile> = {}): RequestProfile => ({ stream: false, estimatedPromptTokens: 1_000, ...overrides });

function judge(candidate: Deployment, profile: Partial<RequestProfile> = {}, input: Partial<FilterInput> = {}) {
  return judgeCandidate(candidate, { request: request(profile), snapshot: EMPTY_SNAPSHOT, ...input });
}

const snapshot = (changes: { weights?: [string, number][]; open?: string[] }): RoutingSnapshot => ({
  ...EMPTY_SNAPSHOT,
  weights: new Map(changes.weights ?? []),
  openCircuits: new Set(changes.open ?? []),
});

describe('judgeCandidate', () => {
  it('passes a deployment that can take the request', () => {
    const candidate = deployment();
    expect(judge(candidate, { maxOutputTokens: 500 })).toEqual({ deployment: candidate, passed: true });
  });

  it('rejects a deployment that lacks a required capability, naming every missing one', () => {
    expect(judge(withCapabilities('streaming', 'vision'), { requiredCapabilities: ['tools', 'vision', 'json_schema'] })).toMatchObject({
      passed: false,
      filter: 'capabilities',
      reason: 'lacks tools, json_schema',
    });
    expect(judge(withCapabilities('tools', 'json_schema'), { requiredCapabilities: ['tools', 'json_schema'] }).passed).toBe(true);
  });

  it('rejects a prompt larger than the context window, giving the estimate 10% benefit of the doubt', () => {
    expect(judge(deployment(), { estimatedPromptTokens: 8_890 })).toMatchObject({
      filter: 'context_window',
      reason: 'about 8890 prompt tokens exceed its context window of 8000',
    });
    expect(judge(deployment(), { estimatedPromptTokens: 8_888 }).passed).toBe(true);
  });

  it('checks max tokens against a maximum output only when the deployment declares one', () => {
    const { maxOutputTokens: _declared, ...undeclared } = deployment();
    expect(judge(undeclared, { estimatedPromptTokens: 10, maxOutputTokens: 5_000 }).passed).toBe(true);
  });

  it('checks contextTokens, when given, instead of the whole prompt (an embeddings batch)', () => {
    expect(judge(deployment(), { estimatedPromptTokens: 50_000, contextTokens: 8_888 }).passed).toBe(true);
    expect(judge(deployment(), { estimatedPromptTokens: 50_000, contextTokens: 8_890 })).toMatchObject({ filter: 'context_window' });
  });

  it('counts the requested output against the context window', () => {
    // 7,000 estimated prompt tokens count as 6,300.
    expect(judge(deployment(), { estimatedPromptTokens: 7_000, maxOutputTokens: 1_700 }).passed).toBe(true);
    expect(judge(deployment(), { estimatedPromptTokens: 7_000, maxOutputTokens: 1_701 })).toMatchObject({
      filter: 'context_window',
      reason: 'about 7000 prompt + 1701 output tokens exceed its context window of 8000',
    });
  });

  it('rejects max tokens above the deployment\'s maximum output', () => {
    expect(judge(deployment(), { estimatedPromptTokens: 10, maxOutputTokens: 2_001 })).toMatchObject({
      filter: 'max_output',
      reason: 'max tokens 2001 exceed its maximum output of 2000',
    });
    expect(judge(deployment(), { estimatedPromptTokens: 10, maxOutputTokens: 2_000 }).passed).toBe(true);
  });

  it('rejects a model the API key may not use, asking about the deployment\'s model', () => {
    const asked: string[] = [];
    const allowedModel = (model: string) => {
      asked.push(model);
      return model !== 'chat';
    };
    expect(judge(deployment(), {}, { allowedModel })).toMatchObject({ filter: 'key_models', reason: 'the API key may not use chat' });
    expect(asked).toEqual(['chat']);
    expect(judge(deployment({ model: 'other' }), {}, { allowedModel }).passed).toBe(true);
  });

  it('rejects a deployment whose circuit is open', () => {
    expect(judge(deployment(), {}, { snapshot: snapshot({ open: ['b/chat'] }) })).toMatchObject({ filter: 'circuit_open', reason: 'its circuit is open' });
    expect(judge(deployment(), {}, { snapshot: snapshot({ open: ['a/chat'] }) }).passed).toBe(true);
  });

  it('rejects a drained deployment: weight 0 in the snapshot or, without one there, in config', () => {
    expect(judge(deployment(), {}, { snapshot: snapshot({ weights: [['b/chat', 0]] }) })).toMatchObject({ filter: 'weight_zero' });
    expect(judge(deployment({ weight: 0 }))).toMatchObject({ filter: 'weight_zero' });
  });

  it('takes the snapshot weight over the configured one', () => {
    expect(judge(deployment({ weight: 0 }), {}, { snapshot: snapshot({ weights: [['b/chat', 0.5]] }) }).passed).toBe(true);
  });

  it('keeps a drained deployment when asked to, but no other rejection', () => {
    const drained = snapshot({ weights: [['b/chat', 0]] });
    expect(judge(deployment(), {}, { snapshot: drained, keepDrained: true }).passed).toBe(true);
    expect(judge(deployment(), {}, { snapshot: { ...drained, openCircuits: new Set(['b/chat']) }, keepDrained: true }).filter).toBe('circuit_open');
  });

  it('reports the first filter a deployment fails, in FILTER_NAMES order', () => {
    const everythingWrong = { snapshot: snapshot({ weights: [['b/chat', 0]], open: ['b/chat'] }), allowedModel: () => false };
    const allowed = { ...everythingWrong, allowedModel: () => true };
    const tooBig = { estimatedPromptTokens: 9_000, maxOutputTokens: 3_000 };
    // A deployment the key may not use is reported as that alone: nothing else about it reaches the caller.
    expect(judge(withCapabilities(), { ...tooBig, requiredCapabilities: ['tools'] }, everythingWrong).filter).toBe('key_models');
    expect(judge(withCapabilities(), { ...tooBig, requiredCapabilities: ['tools'] }, allowed).filter).toBe('capabilities');
    expect(judge(deployment(), tooBig, allowed).filter).toBe('context_window');
    expect(judge(deployment(), { maxOutputTokens: 3_000 }, allowed).filter).toBe('max_output');
    expect(judge(deployment(), {}, allowed).filter).toBe('circuit_open');
    expect(FILTER_NAMES).toEqual(['key_models', 'capabilities', 'context_window', 'max_output', 'circuit_open', 'weight_zero']);
  });
});

describe('isHealthFilter', () => {
  it('is true only for the filters that depend on the cluster\'s health', () => {
    expect(FILTER_NAMES.filter(isHealthFilter)).toEqual(['circuit_open', 'weight_zero']);
    expect(isHealthFilter(undefined)).toBe(false);
  });
});
