import { isRecord } from '@dosrouter/shared';
import type { GeminiPart, GeminiUsageMetadata, GenerateContentResponse } from './gemini-types.js';

/**
 * A Gemini answer back to Chat Completions: the finish reason, the usage, and a whole `chat.completion`. Pure: the
 * caller passes `created` and the prefix of the tool call ids it makes (Gemini's calls mostly have none).
 */

/** Why Gemini stopped → Chat Completions' `finish_reason`; a candidate that called a function finished with `tool_calls`. */
export function geminiFinishReason(finishReason: string | undefined, calledFunction: boolean): string {
  switch (finishReason) {
    case 'MAX_TOKENS':
      return 'length';
    case 'SAFETY':
    case 'RECITATION':
    case 'LANGUAGE':
    case 'BLOCKLIST':
    case 'PROHIBITED_CONTENT':
    case 'SPII':
    case 'IMAGE_SAFETY':
    case 'IMAGE_PROHIBITED_CONTENT':
      return 'content_filter';
    default:
      // STOP, OTHER, MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL, and reasons added after this was written.
      return calledFunction ? 'tool_calls' : 'stop';
  }
}

export interface GeminiChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
}

/**
 * Gemini's usageMetadata → Chat Completions usage. The prompt is every prompt token (cached ones included, as in
 * OpenAI's), plus the prompt of tools the model ran itself; the completion is the answer and its thinking, as OpenAI
 * counts reasoning tokens among completion tokens. Cached and thinking tokens are also reported on their own.
 */
export function geminiChatUsage(usage: GeminiUsageMetadata | undefined): GeminiChatUsage {
  const prompt = count(usage?.promptTokenCount) + count(usage?.toolUsePromptTokenCount);
  const thoughts = count(usage?.thoughtsTokenCount);
  const completion = count(usage?.candidatesTokenCount) + thoughts;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: Math.min(prompt, count(usage?.cachedContentTokenCount)) },
    completion_tokens_details: { reasoning_tokens: thoughts },
  };
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}

/** The id of a tool call: Gemini's own when it gave one, else `<prefix>_<candidate>_<call>`, unique in the answer. */
export function toolCallId(prefix: string, candidate: number, call: number, given: unknown): string {
  return typeof given === 'string' && given !== '' ? given : `${prefix}_${candidate}_${call}`;
}

/** A functionCall's arguments as the JSON text a Chat Completions tool call carries. */
export function argumentsText(args: unknown): string {
  return JSON.stringify(isRecord(args) ? args : {});
}

/**
 * A whole Gemini answer as a `chat.completion`: each candidate a choice, its text joined, its thoughts as
 * `reasoning_content`, its function calls as tool calls. A prompt Gemini blocked (no candidate) is one choice with no
 * content and `finish_reason: content_filter`.
 */
export function geminiToChatCompletion(answer: GenerateContentResponse, created: number, names: { model: string; callIdPrefix: string; id: string }): Record<string, unknown> {
  const candidates = answer.candidates ?? [];
  const choices = candidates.map((candidate, position) => {
    const index = typeof candidate.index === 'number' ? candidate.index : position;
    let text: string | null = null;
    let reasoning: string | undefined;
    const toolCalls: Record<string, unknown>[] = [];
    for (const part of (candidate.content?.parts ?? []) as GeminiPart[]) {
      if (typeof part.text === 'string') {
        if (part.thought === true) reasoning = (reasoning ?? '') + part.text;
        else text = (text ?? '') + part.text;
      } else if (isRecord(part.functionCall)) {
        const id = toolCallId(names.callIdPrefix, index, toolCalls.length, part.functionCall.id);
        toolCalls.push({ id, type: 'function', function: { name: String(part.functionCall.name), arguments: argumentsText(part.functionCall.args) } });
      }
    }
    const message: Record<string, unknown> = { role: 'assistant', content: text, refusal: null };
    if (reasoning !== undefined) message.reasoning_content = reasoning;
    if (toolCalls.length > 0) message.tool_calls = toolCalls;
    return { index, message, logprobs: null, finish_reason: geminiFinishReason(candidate.finishReason, toolCalls.length > 0) };
  });
  if (choices.length === 0 && answer.promptFeedback?.blockReason !== undefined) {
    choices.push({ index: 0, message: { role: 'assistant', content: null, refusal: null }, logprobs: null, finish_reason: 'content_filter' });
  }
  return {
    id: answer.responseId === undefined ? names.id : `chatcmpl-${answer.responseId}`,
    object: 'chat.completion',
    created,
    model: answer.modelVersion ?? names.model,
    choices,
    // No usageMetadata, no usage: the gateway then estimates the tokens rather than record none.
    ...(answer.usageMetadata === undefined ? {} : { usage: geminiChatUsage(answer.usageMetadata) }),
  };
}
