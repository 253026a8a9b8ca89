import type { TokenUsage } from '../upstream/sse-scanner.js';
import type { Transcript } from './delivered-stream.js';

/** Every attempt's usage added up: what the client of a continued stream is told it used. */
export function sumUsage(usages: ReadonlyArray<TokenUsage | undefined>): TokenUsage {
  let promptTokens = 0;
  let completionTokens = 0;
  for (const usage of usages) {
    promptTokens += usage?.promptTokens ?? 0;
    completionTokens += usage?.completionTokens ?? 0;
  }
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
}

/** The usage-only chunk of a continued stream, in the first attempt's `id`, as OpenAI sends it before `[DONE]`. */
export function usageChunkData(transcript: Transcript, usage: TokenUsage): string {
  return JSON.stringify({
    id: transcript.id,
    object: 'chat.completion.chunk',
    created: transcript.created,
    model: transcript.model,
    ...(transcript.systemFingerprint !== undefined ? { system_fingerprint: transcript.systemFingerprint } : {}),
    choices: [],
    usage: { prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, total_tokens: usage.totalTokens },
  });
}
