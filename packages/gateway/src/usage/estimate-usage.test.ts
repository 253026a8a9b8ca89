import { describe, expect, it } from 'vitest';
import { estimateStreamCompletionTokens } from '@dosrouter/shared';
import { SAMPLE_BYTES, StreamTokenEstimate } from './estimate-usage.js';

const event = (index: number, delta: Record<string, unknown>): string =>
  JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index, delta, finish_reason: null }] });

/** A long answer streamed a word per event, as most backends stream one. */
function wordEvents(words: number): string[] {
  const vocabulary = ['The', ' quick', ' brown', ' fox', ' jumps', ' over', ' the', ' lazy', ' dog', ',', ' and', ' then', ' it', ' rests', '.'];
  return [event(0, { role: 'assistant', content: '' }), ...Array.from({ length: words }, (_, word) => event(0, { content: vocabulary[word % vocabulary.length] }))];
}

function estimateOf(events: readonly string[]): number {
  const estimate = new StreamTokenEstimate();
  for (const data of events) estimate.add(Buffer.from(data));
  return estimate.completionTokens();
}

describe('StreamTokenEstimate', () => {
  it('counts a stream that fits in its sample exactly as the whole-stream count does, tool calls and reasoning included', () => {
    const events = [
      ...wordEvents(12),
      event(0, { reasoning_content: 'Let me think', reasoning: 'Let me think' }),
      event(1, { tool_calls: [{ index: 0, function: { name: 'get_weather', arguments: '{"city":' } }] }),
      event(1, { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
    ];
    expect(events.join('').length).toBeLessThan(SAMPLE_BYTES);
    expect(estimateOf(events)).toBe(estimateStreamCompletionTokens(events));
  });

  it('counts a long stream from its sample, within 5 % of the exact count', () => {
    const events = wordEvents(3_000);
    const exact = estimateStreamCompletionTokens(events);
    const estimated = estimateOf(events);
    expect(Math.abs(estimated - exact) / exact).toBeLessThan(0.05);
  });

  it('counts the event that crosses the sample’s size whole, however large', () => {
    const events = [event(0, { role: 'assistant', content: '' }), event(0, { content: 'word '.repeat(SAMPLE_BYTES / 4) })];
    expect(estimateOf(events)).toBe(estimateStreamCompletionTokens(events));
  });

  it('counts nothing for a stream with no events', () => {
    expect(new StreamTokenEstimate().completionTokens()).toBe(0);
  });
});
