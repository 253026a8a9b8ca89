import { describe, expect, it } from 'vitest';
import { isEmptyAnswer } from './attempt.js';

const answer = (message: Record<string, unknown>, finish_reason = 'stop') => ({ choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason }] });

describe('isEmptyAnswer', () => {
  it('is true for no content and no tool call in any choice', () => {
    expect(isEmptyAnswer(answer({ content: '' }))).toBe(true);
    expect(isEmptyAnswer(answer({ content: null }))).toBe(true);
    expect(isEmptyAnswer({ choices: [{ index: 0, text: '', finish_reason: 'stop' }] })).toBe(true);
  });

  it('is false for any kind of answer: text, parts, refusal, reasoning, tool calls, audio', () => {
    for (const message of [
      { content: 'Hi' },
      { content: [{ type: 'text', text: 'Hi' }] },
      { content: null, refusal: 'I can’t help with that.' },
      { content: '', reasoning_content: 'Let me think…' },
      { content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { content: null, audio: { id: 'audio_1', data: 'AAAA' } },
    ]) {
      expect(isEmptyAnswer(answer(message))).toBe(false);
    }
  });

  it('is false when the answer was cut at max_tokens or stopped by a content filter: the client gets it as it came', () => {
    expect(isEmptyAnswer(answer({ content: '' }, 'length'))).toBe(false);
    expect(isEmptyAnswer(answer({ content: '' }, 'content_filter'))).toBe(false);
  });

  it('is false for bodies of other shapes, which pass through', () => {
    expect(isEmptyAnswer({ object: 'list', data: [] })).toBe(false);
    expect(isEmptyAnswer(null)).toBe(false);
  });
});
