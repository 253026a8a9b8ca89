import { describe, expect, it } from 'vitest';
import { PromptCache } from './prompt-cache.js';
import { accountMessagesCache } from '../routes/messages/messages-cache.js';
import type { PromptSegment } from '../routes/messages/messages-prompt.js';

const MINUTE = 60_000;

function clockAt(start = 0): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe('PromptCache', () => {
  it('keeps an entry for its lifetime from the last use: a read refreshes it', () => {
    const clock = clockAt();
    const cache = new PromptCache(clock.now);
    cache.write('prefix', 5 * MINUTE);
    clock.advance(4 * MINUTE);
    expect(cache.read('prefix')).toBe(true);
    clock.advance(4 * MINUTE);
    expect(cache.read('prefix')).toBe(true);
    clock.advance(5 * MINUTE);
    expect(cache.read('prefix')).toBe(false);
    expect(cache.size).toBe(0);
  });

  it('keeps the longer lifetime when a prefix is written again with a shorter one', () => {
    const clock = clockAt();
    const cache = new PromptCache(clock.now);
    cache.write('prefix', 60 * MINUTE);
    cache.write('prefix', 5 * MINUTE);
    clock.advance(30 * MINUTE);
    expect(cache.read('prefix')).toBe(true);
  });

  it('drops the entry used least recently past its capacity', () => {
    const cache = new PromptCache(() => 0, 2);
    cache.write('a', MINUTE);
    cache.write('b', MINUTE);
    expect(cache.read('a')).toBe(true);
    cache.write('c', MINUTE);
    expect([cache.read('a'), cache.read('b'), cache.read('c')]).toEqual([true, false, true]);
  });
});

describe('accountMessagesCache', () => {
  const segment = (tokens: number, canonical: string, cacheTtl?: '5m' | '1h'): PromptSegment => ({ tokens, canonical, cacheTtl });

  it('adds up to the whole prompt: the uncached rest, reads and writes by lifetime', () => {
    const clock = clockAt();
    const cache = new PromptCache(clock.now);
    const tools = segment(500, 'tools', '1h');
    const system = segment(700, 'system', '5m');
    const question = segment(20, 'question');
    expect(accountMessagesCache(cache, 'm', [tools, system, question], 0)).toEqual({
      inputTokens: 20,
      cacheReadTokens: 0,
      cacheWriteTokens: { '1h': 500, '5m': 700 },
    });
    // Six minutes on, the 5-minute system entry is gone; the hour-long tools entry is read, the system written again.
    clock.advance(6 * MINUTE);
    expect(accountMessagesCache(cache, 'm', [tools, system, segment(30, 'another question')], 0)).toEqual({
      inputTokens: 30,
      cacheReadTokens: 500,
      cacheWriteTokens: { '1h': 0, '5m': 700 },
    });
  });

  it('caches per model, and leaves out a breakpoint below the minimum', () => {
    const cache = new PromptCache(() => 0);
    const prompt = [segment(600, 'short', '5m'), segment(600, 'long', '5m'), segment(5, 'question')];
    expect(accountMessagesCache(cache, 'a', prompt, 1_000)).toMatchObject({ inputTokens: 5, cacheWriteTokens: { '5m': 1_200 } });
    expect(accountMessagesCache(cache, 'b', prompt, 1_000)).toMatchObject({ cacheReadTokens: 0, cacheWriteTokens: { '5m': 1_200 } });
    expect(accountMessagesCache(cache, 'a', prompt, 1_000)).toMatchObject({ cacheReadTokens: 1_200, cacheWriteTokens: { '5m': 0 } });
  });
});
