import type { ResolvedModel } from '../../config/parse-simulator-options.js';
import type { StreamDialect, StreamEvent } from '../../delivery/event-stream.js';
import { tokenEvents } from '../../delivery/stream-steps.js';
import type { ReportedUsage } from '../../state/usage-ledger.js';
import { piecesOf, type ChatChoiceAnswer } from '../chat/chat-answer.js';

/** Gemini's usageMetadata, in the order the API writes its fields; the optional counts only when above 0. */
export interface GeminiUsage {
  promptTokenCount: number;
  candidatesTokenCount: number;
  totalTokenCount: number;
  cachedContentTokenCount?: number;
  promptTokensDetails: { modality: 'TEXT'; tokenCount: number }[];
  thoughtsTokenCount?: number;
}

export function buildGeminiUsage(promptTokens: number, cachedTokens: number, candidatesTokens: number, thoughtsTokens: number): GeminiUsage {
  const usage: GeminiUsage = {
    promptTokenCount: promptTokens,
    candidatesTokenCount: candidatesTokens,
    totalTokenCount: promptTokens + candidatesTokens + thoughtsTokens,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: promptTokens }],
  };
  if (cachedTokens > 0) usage.cachedContentTokenCount = cachedTokens;
  if (thoughtsTokens > 0) usage.thoughtsTokenCount = thoughtsTokens;
  return usage;
}

/** What the ledger counts of a Gemini answer, in OpenAI's terms: thinking is part of the completion, as OpenAI counts it. */
export function geminiLedgerUsage(usage: GeminiUsage): ReportedUsage {
  return {
    prompt_tokens: usage.promptTokenCount,
    completion_tokens: usage.candidatesTokenCount + (usage.thoughtsTokenCount ?? 0),
    prompt_tokens_details: { cached_tokens: usage.cachedContentTokenCount ?? 0 },
  };
}

export interface GeminiMeta {
  responseId: string;
  modelId: string;
}

function finishReasonOf(answer: ChatChoiceAnswer): string {
  return answer.kind === 'text' && answer.finishReason === 'length' ? 'MAX_TOKENS' : 'STOP';
}

/** A candidate's parts: its text (none for an empty answer), or one whole function call (Gemini names no call id). */
function partsOf(answer: ChatChoiceAnswer, text = answer.kind === 'text' ? answer.tokens.join('') : ''): Record<string, unknown>[] {
  if (answer.kind === 'tool_call') return [{ functionCall: { name: answer.functionName, args: JSON.parse(answer.argumentPieces.join('')) as unknown } }];
  return text === '' ? [] : [{ text }];
}

/** The non-streaming GenerateContentResponse. */
export function buildGenerateContentResponse(meta: GeminiMeta, answers: readonly ChatChoiceAnswer[], usage: GeminiUsage | undefined): Record<string, unknown> {
  return {
    candidates: answers.map((answer) => ({ content: { parts: partsOf(answer), role: 'model' }, finishReason: finishReasonOf(answer), index: answer.index })),
    ...(usage === undefined ? {} : { usageMetadata: usage }),
    modelVersion: meta.modelId,
    responseId: meta.responseId,
  };
}

/** Gemini's stream faults: the error event is the UNAVAILABLE error Gemini sends when a model runs out of capacity. */
export const GEMINI_STREAM_DIALECT: StreamDialect = {
  errorEvent: {
    payload: JSON.stringify({ error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' } }),
    delayBeforeMs: 0,
  },
};

/**
 * The events of a `streamGenerateContent?alt=sse` stream: one GenerateContentResponse per token of each text
 * candidate (its usageMetadata holding the prompt count so far), a function call whole in one event, then a last
 * event with every candidate's finishReason and the whole usageMetadata. Gemini sends no closing event after it.
 */
export function buildGeminiStreamEvents(meta: GeminiMeta, answers: readonly ChatChoiceAnswer[], usage: GeminiUsage | undefined, model: ResolvedModel): StreamEvent[] {
  const ending = `,"modelVersion":${JSON.stringify(meta.modelId)},"responseId":${JSON.stringify(meta.responseId)}}`;
  const running = usage === undefined ? '' : `,"usageMetadata":${JSON.stringify({ promptTokenCount: usage.promptTokenCount, totalTokenCount: usage.promptTokenCount })}`;
  const encode = (answer: ChatChoiceAnswer, piece: string): string =>
    `{"candidates":[{"content":{"parts":${JSON.stringify(partsOf(answer, piece))},"role":"model"},"index":${answer.index}}]${running}${ending}`;
  // A function call streams as one piece: Gemini sends each call whole.
  const pieces = (answer: ChatChoiceAnswer): readonly string[] => (answer.kind === 'tool_call' ? [''] : piecesOf(answer));
  const events = tokenEvents(answers, pieces, encode, model.firstTokenDelayMs, model.interTokenDelayMs);
  const last = answers.map((answer) => ({ content: { parts: [{ text: '' }], role: 'model' }, finishReason: finishReasonOf(answer), index: answer.index }));
  const closing = `{"candidates":${JSON.stringify(last)}${usage === undefined ? '' : `,"usageMetadata":${JSON.stringify(usage)}`}${ending}`;
  events.push({ payload: closing, delayBeforeMs: events.length === 0 ? model.firstTokenDelayMs : model.interTokenDelayMs });
  return events;
}
