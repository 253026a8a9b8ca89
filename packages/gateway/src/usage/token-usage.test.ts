import { describe, expect, it } from 'vitest';
import { usageFromResponse } from './token-usage.js';

describe('usageFromResponse', () => {
  it('reads OpenAI chat usage, cached_tokens as a part of prompt_tokens', () => {
    const usage = usageFromResponse({
      usage: { prompt_tokens: 2_000, completion_tokens: 50, total_tokens: 2_050, prompt_tokens_details: { cached_tokens: 1_920, audio_tokens: 0 } },
    });
    expect(usage).toEqual({ promptTokens: 2_000, completionTokens: 50, totalTokens: 2_050, cacheReadTokens: 1_920 });
  });

  it('reads OpenAI usage without details as before, with no cache counts', () => {
    expect(usageFromResponse({ usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 } })).toEqual({
      promptTokens: 9,
      completionTokens: 3,
      totalTokens: 12,
    });
  });

  it('reads the cache writes of a chat completion translated from a Messages answer, the 1-hour share apart', () => {
    const usage = usageFromResponse({
      usage: {
        prompt_tokens: 2_112,
        completion_tokens: 15,
        total_tokens: 2_127,
        prompt_tokens_details: { cached_tokens: 2_000 },
        cache_read_input_tokens: 2_000,
        cache_creation_input_tokens: 100,
        cache_creation: { ephemeral_5m_input_tokens: 40, ephemeral_1h_input_tokens: 60 },
      },
    });
    expect(usage).toEqual({ promptTokens: 2_112, completionTokens: 15, totalTokens: 2_127, cacheReadTokens: 2_000, cacheWriteTokens: 100, cacheWrite1hTokens: 60 });
  });

  it("reads the Responses API's usage, whose input_tokens include cached_tokens", () => {
    const usage = usageFromResponse({
      usage: { input_tokens: 1_500, input_tokens_details: { cached_tokens: 1_024 }, output_tokens: 20, total_tokens: 1_520 },
    });
    expect(usage).toEqual({ promptTokens: 1_500, completionTokens: 20, totalTokens: 1_520, cacheReadTokens: 1_024 });
  });

  it("adds Anthropic's cache reads and writes to its input_tokens, which count only the uncached rest", () => {
    const usage = usageFromResponse({
      usage: {
        input_tokens: 12,
        cache_creation_input_tokens: 300,
        cache_read_input_tokens: 2_000,
        cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 200 },
        output_tokens: 40,
        service_tier: 'standard',
      },
    });
    expect(usage).toEqual({
      promptTokens: 12 + 300 + 2_000,
      completionTokens: 40,
      totalTokens: 2_352,
      cacheReadTokens: 2_000,
      cacheWriteTokens: 300,
      cacheWrite1hTokens: 200,
    });
  });

  it('never believes a cache count above the prompt or a count that is not a whole number', () => {
    expect(usageFromResponse({ usage: { prompt_tokens: 10, completion_tokens: -4, prompt_tokens_details: { cached_tokens: 50 } } })).toEqual({
      promptTokens: 10,
      completionTokens: 0,
      totalTokens: 10,
      cacheReadTokens: 10,
    });
    expect(usageFromResponse({ usage: { input_tokens: 'Infinity', output_tokens: 2.6 } })).toEqual({ promptTokens: 0, completionTokens: 3, totalTokens: 3 });
  });

  it('reads nothing from a body without a usage object', () => {
    expect(usageFromResponse({ usage: null })).toBeUndefined();
    expect(usageFromResponse(null)).toBeUndefined();
  });
});
