import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTEXT_WINDOW, DEFAULT_OUTPUT_TOKENS, parseSimulatorOptions } from './parse-simulator-options.js';

describe('parseSimulatorOptions', () => {
  it('fills in the documented defaults', () => {
    const options = parseSimulatorOptions({ models: [{ id: 'sim-fast' }] });

    expect(options).toMatchObject({ apiKey: undefined, seed: 1, host: '127.0.0.1', port: 0, recordRequests: 100 });
    expect(options.models.get('sim-fast')).toEqual({
      id: 'sim-fast',
      headersDelayMs: 0,
      firstTokenDelayMs: 0,
      interTokenDelayMs: 0,
      outputTokens: DEFAULT_OUTPUT_TOKENS,
      contextWindow: DEFAULT_CONTEXT_WINDOW,
      faultRates: [],
      retryAfterSeconds: 1,
      reportsUsage: true,
      jsonStyle: 'compact',
      rejectsPrefill: false,
      promptCacheMinimumTokens: 1024,
    });
  });

  it('keeps only positive fault rates, in fault-kind order', () => {
    const options = parseSimulatorOptions({
      models: [{ id: 'sim-flaky', faultRates: { hang: 0.1, rate_limit: 0.2, reset: 0 } }],
    });

    expect(options.models.get('sim-flaky')?.faultRates).toEqual([
      { kind: 'rate_limit', rate: 0.2 },
      { kind: 'hang', rate: 0.1 },
    ]);
  });

  it('keeps reportsUsage: false', () => {
    const options = parseSimulatorOptions({ models: [{ id: 'sim-local', reportsUsage: false }] });

    expect(options.models.get('sim-local')?.reportsUsage).toBe(false);
  });

  it.each([
    [{ models: [] }, /models/],
    [{ models: [{ id: '' }] }, /models\.0\.id/],
    [{ models: [{ id: 'a', outputTokens: 0 }] }, /models\.0\.outputTokens/],
    [{ models: [{ id: 'a', reportsUsage: 'no' }] }, /models\.0\.reportsUsage/],
    [{ models: [{ id: 'a', faultRates: { rate_limt: 0.1 } }] }, /models\.0\.faultRates/],
    [{ models: [{ id: 'a', faultRates: { rate_limit: 0.7, hang: 0.7 } }] }, /add up to at most 1/],
    [{ models: [{ id: 'a' }, { id: 'a' }] }, /models\.1\.id: duplicate model id "a"/],
    [{ models: [{ id: 'a' }], port: 70_000 }, /port/],
    [{ models: [{ id: 'a' }], colour: 'blue' }, /colour/],
  ])('rejects %j naming the bad field', (input, message) => {
    expect(() => parseSimulatorOptions(input)).toThrow(message);
  });
});
