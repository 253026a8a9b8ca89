import { estimateCompletionTokens, estimateUsagePromptTokens, StreamCompletionCounter } from '@dosrouter/shared';
import type { Operation } from '../upstream/backend.js';
import type { TokenUsage } from './token-usage.js';

/** What to count completion tokens in: a whole answer, or a stream's count so far ({@link StreamTokenEstimate}). */
export type CompletionSource = { readonly answer: unknown } | { readonly completionTokens: number };

/**
 * The usage of a request whose backend reported none, counted with the o200k_base tokenizer: the prompt from the
 * request, the completion from the answer (or the stream's estimate). The tokenizer loads on the first count (~150 ms,
 * once per process).
 */
export function estimateUsage(operation: Operation, body: Record<string, unknown>, completion: CompletionSource): TokenUsage {
  const promptTokens = operation === 'models' ? 0 : estimateUsagePromptTokens(operation, body);
  const completionTokens = operation === 'embeddings' ? 0 : 'answer' in completion ? estimateCompletionTokens(completion.answer) : completion.completionTokens;
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
}

/**
 * Event data of a stream read with the tokenizer: its first events, until they total this many bytes (the event
 * that crosses it included). The rest of the stream is counted at the tokens per byte measured on them. 4 KB is 15
 * to 30 OpenAI chunks.
 */
export const SAMPLE_BYTES = 4 * 1024;
/** The sample's text is made flat every this many events (StreamCompletionCounter.compact). */
const COMPACT_EVERY = 4;

/**
 * The completion tokens of a stream as it passes, for a backend that reports no usage (or a stream that breaks
 * before it does), in bounded memory: the events of the first {@link SAMPLE_BYTES} are parsed and their text kept
 * per choice and field (a few hundred bytes: the text, not the events); every later event only adds its byte count.
 * The estimate is the sample's tokens scaled by all bytes over the sample's bytes, so a long answer costs a few
 * numbers per stream, not the answer held in memory, and no work per event beyond a sum. Events whose shape differs
 * from the sample's (a final usage chunk) shift the estimate by their share of bytes.
 *
 * The tokenizer runs only when the estimate is asked for: most backends report usage, and then the sample is never
 * counted (counting it once it filled cost every stream of 4 KB or more about 30 µs, and loaded the tokenizer's
 * tables into a process that never needed them).
 */
export class StreamTokenEstimate {
  private readonly sample = new StreamCompletionCounter();
  private sampledBytes = 0;
  private sampledEvents = 0;
  private otherBytes = 0;

  /** One JSON event's data, as the relay forwards it. */
  add(data: Buffer): void {
    if (this.sampledBytes < SAMPLE_BYTES) {
      this.sample.add(data.toString('utf8'));
      this.sampledBytes += data.length;
      // The sample's text is kept for the stream's life: flat every few events and once full, not a tree of its
      // pieces (the estimate of a stream past its sample, 27 benchmark events: 1,108 bytes of heap, 548 flat).
      this.sampledEvents += 1;
      if (this.sampledEvents % COMPACT_EVERY === 0 || this.sampledBytes >= SAMPLE_BYTES) this.sample.compact();
      return;
    }
    this.otherBytes += data.length;
  }

  /** The completion tokens of the events added so far. */
  completionTokens(): number {
    if (this.sampledBytes === 0) return 0;
    const sampled = this.sample.tokens();
    return this.otherBytes === 0 ? sampled : Math.round((sampled * (this.sampledBytes + this.otherBytes)) / this.sampledBytes);
  }
}
