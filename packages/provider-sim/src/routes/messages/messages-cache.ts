import { createHash } from 'node:crypto';
import type { PromptCache } from '../../state/prompt-cache.js';
import type { CacheTtl, PromptSegment } from './messages-prompt.js';

const TTL_MS: Record<CacheTtl, number> = { '5m': 5 * 60_000, '1h': 60 * 60_000 };

/**
 * How a Messages prompt's input tokens split, exactly as Anthropic reports them: `inputTokens` is only what comes
 * after the last cache breakpoint; the three add up to the whole prompt.
 */
export interface MessagesCacheUsage {
  inputTokens: number;
  cacheReadTokens: number;
  /** Written now, by the lifetime of the breakpoint that ends each written stretch. */
  cacheWriteTokens: Record<CacheTtl, number>;
}

interface Breakpoint {
  key: string;
  prefixTokens: number;
  ttl: CacheTtl;
}

function breakpointsOf(modelId: string, segments: readonly PromptSegment[]): Breakpoint[] {
  const hash = createHash('sha256').update(modelId);
  const breakpoints: Breakpoint[] = [];
  let prefixTokens = 0;
  for (const segment of segments) {
    hash.update(segment.canonical).update('\u0002');
    prefixTokens += segment.tokens;
    if (segment.cacheTtl !== undefined) {
      breakpoints.push({ key: hash.copy().digest('base64'), prefixTokens, ttl: segment.cacheTtl });
    }
  }
  return breakpoints;
}

/**
 * Reads and writes the cache for one Messages request. Each `cache_control` marks a breakpoint: the prefix up to and
 * including that block. The longest breakpoint prefix still cached (per model) is a cache read; the stretches up to
 * every later breakpoint are written (cache creation), each with its breakpoint's lifetime; the rest is plain input.
 * A breakpoint whose prefix is shorter than `minimumTokens` is not cached, as Anthropic ignores those.
 */
export function accountMessagesCache(
  cache: PromptCache,
  modelId: string,
  segments: readonly PromptSegment[],
  minimumTokens: number,
): MessagesCacheUsage {
  const totalTokens = segments.reduce((sum, segment) => sum + segment.tokens, 0);
  const usage: MessagesCacheUsage = { inputTokens: totalTokens, cacheReadTokens: 0, cacheWriteTokens: { '5m': 0, '1h': 0 } };
  if (!segments.some((segment) => segment.cacheTtl !== undefined)) {
    return usage;
  }
  const eligible = breakpointsOf(modelId, segments).filter((breakpoint) => breakpoint.prefixTokens >= minimumTokens);
  let hitIndex = -1;
  for (let index = eligible.length - 1; index >= 0; index -= 1) {
    const breakpoint = eligible[index];
    if (breakpoint !== undefined && cache.read(breakpoint.key)) {
      hitIndex = index;
      break;
    }
  }
  let cachedTokens = hitIndex === -1 ? 0 : (eligible[hitIndex]?.prefixTokens ?? 0);
  usage.cacheReadTokens = cachedTokens;
  for (const breakpoint of eligible.slice(hitIndex + 1)) {
    cache.write(breakpoint.key, TTL_MS[breakpoint.ttl]);
    usage.cacheWriteTokens[breakpoint.ttl] += breakpoint.prefixTokens - cachedTokens;
    cachedTokens = breakpoint.prefixTokens;
  }
  usage.inputTokens = totalTokens - cachedTokens;
  return usage;
}
