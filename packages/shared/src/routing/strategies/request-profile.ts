import type { Capability } from '../../config/schema.js';

/**
 * What a strategy may know about the request it orders deployments for. The caller fills it from the parsed body;
 * every field is an estimate made before anything is sent, so it costs no I/O.
 */
export interface RequestProfile {
  /** The client asked for a stream: the latency strategy then compares time to first token. */
  readonly stream: boolean;
  /** The prompt's size in tokens, estimated by the caller (for instance characters / 4). */
  readonly estimatedPromptTokens: number;
  /**
   * Tokens that must fit one deployment's context window, when that is not the whole prompt: an embeddings batch's
   * largest input. Absent: `estimatedPromptTokens`.
   */
  readonly contextTokens?: number;
  /** The request's own output cap (`max_completion_tokens` or `max_tokens`), when it sets one. */
  readonly maxOutputTokens?: number;
  /** What the request needs: `tools` when it sends tools, `vision` for image parts, `json_schema`, … */
  readonly requiredCapabilities?: readonly Capability[];
}

/**
 * Output tokens assumed when the request sets no cap. Default 256: a typical chat answer. Long answers are where
 * output prices dominate, so a client that knows its answers are long should send `max_tokens`.
 */
export const DEFAULT_EXPECTED_OUTPUT_TOKENS = 256;

/**
 * Prompt tokens assumed when a strategy is called with no request profile at all. Default 500: a short chat turn,
 * so input and output prices both count.
 */
export const DEFAULT_ESTIMATED_PROMPT_TOKENS = 500;
