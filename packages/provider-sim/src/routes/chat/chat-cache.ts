import { createHash } from 'node:crypto';
import { estimateTokens, TOKENS_PER_MESSAGE } from '../../generation/token-count.js';
import type { PromptCache } from '../../state/prompt-cache.js';
import type { ChatRequest } from './chat-request.js';

/** How long OpenAI keeps a cached prefix after its last use: 5 to 10 minutes of inactivity; the simulator takes 5. */
export const CHAT_CACHE_TTL_MS = 5 * 60_000;
/** OpenAI reports cached tokens in steps of 128 above its 1024-token minimum. */
export const CHAT_CACHE_INCREMENT_TOKENS = 128;

/**
 * OpenAI's automatic prompt caching, made deterministic: every message boundary whose prefix reaches the model's
 * `promptCacheMinimumTokens` (default 1024) is cached for 5 minutes from its last use, per model; a later prompt that
 * starts with a cached prefix reports the longest one as `cached_tokens`, rounded down to a multiple of 128. A
 * prefix counts like the whole prompt does: ceil(its characters / 4) + 3 per message. Returns the cached tokens.
 */
export function accountChatCache(cache: PromptCache, request: Pick<ChatRequest, 'model' | 'promptTokens' | 'messages'>): number {
  const minimum = request.model.promptCacheMinimumTokens;
  if (request.promptTokens < minimum) {
    return 0;
  }
  const hash = createHash('sha256').update(request.model.id).update('\u0000');
  const boundaries: Array<{ key: string; tokens: number }> = [];
  let characters = 0;
  request.messages.forEach((message, index) => {
    hash.update(message.key);
    characters += message.text.length;
    const tokens = estimateTokens(characters) + TOKENS_PER_MESSAGE * (index + 1);
    if (tokens >= minimum) {
      boundaries.push({ key: hash.copy().digest('base64'), tokens });
    }
  });
  let cachedTokens = 0;
  for (let index = boundaries.length - 1; index >= 0; index -= 1) {
    const boundary = boundaries[index];
    if (boundary !== undefined && cache.read(boundary.key)) {
      cachedTokens = boundary.tokens;
      break;
    }
  }
  for (const boundary of boundaries) {
    cache.write(boundary.key, CHAT_CACHE_TTL_MS);
  }
  return Math.floor(cachedTokens / CHAT_CACHE_INCREMENT_TOKENS) * CHAT_CACHE_INCREMENT_TOKENS;
}
