import { describe, expect, it } from 'vitest';
import { geminiChatUsage, geminiFinishReason, geminiToChatCompletion } from './openai-to-gemini-answer.js';

const NAMES = { id: 'chatcmpl-gateway', model: 'gemini-deployment', callIdPrefix: 'call_xyz' };

describe('geminiFinishReason', () => {
  it('maps STOP to stop (tool_calls after a function call), MAX_TOKENS to length, and the safety reasons to content_filter', () => {
    expect(geminiFinishReason('STOP', false)).toBe('stop');
    expect(geminiFinishReason('STOP', true)).toBe('tool_calls');
    expect(geminiFinishReason('MAX_TOKENS', true)).toBe('length');
    for (const reason of ['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY']) expect(geminiFinishReason(reason, false)).toBe('content_filter');
    expect(geminiFinishReason('MALFORMED_FUNCTION_CALL', false)).toBe('stop');
    expect(geminiFinishReason(undefined, false)).toBe('stop');
  });
});

describe('geminiChatUsage', () => {
  it('counts cached tokens within the prompt and thinking within the completion, each also reported on its own', () => {
    expect(geminiChatUsage({ promptTokenCount: 2057, cachedContentTokenCount: 2048, candidatesTokenCount: 11, thoughtsTokenCount: 311, totalTokenCount: 2379 })).toEqual({
      prompt_tokens: 2057,
      completion_tokens: 322,
      total_tokens: 2379,
      prompt_tokens_details: { cached_tokens: 2048 },
      completion_tokens_details: { reasoning_tokens: 311 },
    });
    expect(geminiChatUsage({ promptTokenCount: 10, toolUsePromptTokenCount: 5, candidatesTokenCount: 2 })).toMatchObject({ prompt_tokens: 15, completion_tokens: 2, total_tokens: 17 });
    expect(geminiChatUsage(undefined)).toMatchObject({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
  });
});

describe('geminiToChatCompletion', () => {
  it('makes each candidate a choice: text joined, thoughts as reasoning_content, function calls as tool calls', () => {
    const completion = geminiToChatCompletion(
      {
        candidates: [
          {
            content: { role: 'model', parts: [{ text: 'Thinking it over', thought: true }, { text: 'Checking ' }, { text: 'the weather.' }, { functionCall: { name: 'get_weather', args: { city: 'Paris' } } }, { functionCall: { id: 'fc_9', name: 'get_time' } }] },
            finishReason: 'STOP',
            index: 0,
          },
          { content: { role: 'model', parts: [{ text: 'Cut' }] }, finishReason: 'MAX_TOKENS', index: 1 },
        ],
        usageMetadata: { promptTokenCount: 20, candidatesTokenCount: 9, totalTokenCount: 29 },
        modelVersion: 'gemini-2.5-pro',
        responseId: 'resp-1',
      },
      1_700_000_000,
      NAMES,
    );
    expect(completion).toEqual({
      id: 'chatcmpl-resp-1',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'gemini-2.5-pro',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Checking the weather.',
            refusal: null,
            reasoning_content: 'Thinking it over',
            tool_calls: [
              { id: 'call_xyz_0_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
              { id: 'fc_9', type: 'function', function: { name: 'get_time', arguments: '{}' } },
            ],
          },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
        { index: 1, message: { role: 'assistant', content: 'Cut', refusal: null }, logprobs: null, finish_reason: 'length' },
      ],
      usage: { prompt_tokens: 20, completion_tokens: 9, total_tokens: 29, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } },
    });
  });

  it('answers a blocked prompt with one empty choice finished by the content filter, named by the gateway', () => {
    const completion = geminiToChatCompletion({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 7, totalTokenCount: 7 } }, 1, NAMES);
    expect(completion).toMatchObject({
      id: 'chatcmpl-gateway',
      model: 'gemini-deployment',
      choices: [{ index: 0, message: { role: 'assistant', content: null }, finish_reason: 'content_filter' }],
      usage: { prompt_tokens: 7, completion_tokens: 0 },
    });
    expect(geminiToChatCompletion({ candidates: [{ content: { parts: [{ text: 'Hi' }] }, finishReason: 'STOP' }] }, 1, NAMES)).not.toHaveProperty('usage');
  });
});
