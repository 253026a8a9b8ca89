import type { ResolvedModel } from '../../config/parse-simulator-options.js';
import type { StreamDialect, StreamEvent } from '../../delivery/event-stream.js';
import type { ReportedUsage } from '../../state/usage-ledger.js';
import type { ChatChoiceAnswer } from '../chat/chat-answer.js';
import type { ChatRequest } from '../chat/chat-request.js';
import type { ResponseMeta } from '../response-meta.js';

/** Responses' usage object. */
export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export function buildResponsesUsage(promptTokens: number, outputTokens: number, cachedTokens: number): ResponsesUsage {
  return {
    input_tokens: promptTokens,
    input_tokens_details: { cached_tokens: cachedTokens },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: promptTokens + outputTokens,
  };
}

/** What the ledger counts of a Responses answer, in Chat's terms. */
export function ledgerUsageOf(usage: ResponsesUsage): ReportedUsage {
  return { prompt_tokens: usage.input_tokens, completion_tokens: usage.output_tokens, prompt_tokens_details: { cached_tokens: usage.input_tokens_details.cached_tokens } };
}

function itemId(meta: ResponseMeta, answer: ChatChoiceAnswer): string {
  return `${answer.kind === 'text' ? 'msg' : 'fc'}_${meta.id.replace(/^resp_/, '')}`;
}

function outputItem(meta: ResponseMeta, answer: ChatChoiceAnswer, status: 'in_progress' | 'completed'): Record<string, unknown> {
  const id = itemId(meta, answer);
  if (answer.kind === 'tool_call') {
    return { id, type: 'function_call', status, arguments: status === 'completed' ? answer.argumentPieces.join('') : '', call_id: answer.callId, name: answer.functionName };
  }
  const content = status === 'completed' ? [{ type: 'output_text', annotations: [], logprobs: [], text: answer.tokens.join('') }] : [];
  return { id, type: 'message', status, content, role: 'assistant' };
}

/** The Response object; with no output and no usage while it is in progress (response.created's). */
export function buildResponse(
  meta: ResponseMeta,
  request: ChatRequest,
  body: Record<string, unknown>,
  answer: ChatChoiceAnswer,
  usage: ResponsesUsage | null,
): Record<string, unknown> {
  const done = usage !== null;
  const incomplete = done && answer.kind === 'text' && answer.finishReason === 'length';
  return {
    id: meta.id,
    object: 'response',
    created_at: meta.created,
    status: !done ? 'in_progress' : incomplete ? 'incomplete' : 'completed',
    background: false,
    error: null,
    incomplete_details: incomplete ? { reason: 'max_output_tokens' } : null,
    instructions: body['instructions'] ?? null,
    max_output_tokens: request.maximumTokens ?? null,
    model: meta.modelId,
    output: done ? [outputItem(meta, answer, 'completed')] : [],
    parallel_tool_calls: body['parallel_tool_calls'] ?? true,
    previous_response_id: body['previous_response_id'] ?? null,
    reasoning: { effort: null, summary: null },
    store: body['store'] ?? true,
    temperature: body['temperature'] ?? 1,
    text: body['text'] ?? { format: { type: 'text' } },
    tool_choice: body['tool_choice'] ?? 'auto',
    tools: body['tools'] ?? [],
    top_p: body['top_p'] ?? 1,
    truncation: 'disabled',
    usage,
    user: null,
    metadata: body['metadata'] ?? {},
    ...(done ? { completed_at: meta.created } : {}),
  };
}

/** A token's event, encoded when it is sent (as chat's are, stream-steps.ts), with its place in the stream. */
class DeltaEvent implements StreamEvent {
  readonly event: string;
  constructor(
    readonly delayBeforeMs: number,
    private readonly prefix: string,
    private readonly piece: string,
    private readonly suffix: string,
    eventName: string,
  ) {
    this.event = eventName;
  }

  get payload(): string {
    return `${this.prefix}${JSON.stringify(this.piece)}${this.suffix}`;
  }
}

/**
 * The events of a Responses stream, as OpenAI sends them: response.created and response.in_progress (they wait for
 * the first token, as chat's role chunk does), the output item and its part added, one delta per token, the text's
 * (or the arguments') done event, the part's and the item's, then response.completed with usage; every event named by
 * its type and numbered by `sequence_number` from 0. Returns the events and how many open the stream without a token.
 */
export function buildResponsesStreamEvents(
  meta: ResponseMeta,
  request: ChatRequest,
  body: Record<string, unknown>,
  answer: ChatChoiceAnswer,
  usage: ResponsesUsage,
  model: ResolvedModel,
): { events: StreamEvent[]; openingEvents: number } {
  const events: StreamEvent[] = [];
  const named = (type: string, fields: Record<string, unknown>, delayBeforeMs = 0): void => {
    events.push({ event: type, payload: JSON.stringify({ type, ...fields, sequence_number: events.length }), delayBeforeMs });
  };
  const id = itemId(meta, answer);
  const where = { item_id: id, output_index: 0 };
  named('response.created', { response: buildResponse(meta, request, body, answer, null) }, model.firstTokenDelayMs);
  named('response.in_progress', { response: buildResponse(meta, request, body, answer, null) });
  named('response.output_item.added', { output_index: 0, item: outputItem(meta, answer, 'in_progress') });
  if (answer.kind === 'text') {
    named('response.content_part.added', { ...where, content_index: 0, part: { type: 'output_text', annotations: [], logprobs: [], text: '' } });
  }
  const openingEvents = events.length;
  const pieces = answer.kind === 'text' ? answer.tokens : answer.argumentPieces;
  const type = answer.kind === 'text' ? 'response.output_text.delta' : 'response.function_call_arguments.delta';
  const prefix = `{"type":"${type}","item_id":"${id}","output_index":0,${answer.kind === 'text' ? '"content_index":0,' : ''}"delta":`;
  const logprobs = answer.kind === 'text' ? ',"logprobs":[]' : '';
  pieces.forEach((piece, index) => {
    events.push(new DeltaEvent(index === 0 ? 0 : model.interTokenDelayMs, prefix, piece, `${logprobs},"sequence_number":${events.length}}`, type));
  });
  const item = outputItem(meta, answer, 'completed');
  if (answer.kind === 'text') {
    const text = answer.tokens.join('');
    named('response.output_text.done', { ...where, content_index: 0, text, logprobs: [] });
    named('response.content_part.done', { ...where, content_index: 0, part: { type: 'output_text', annotations: [], logprobs: [], text } });
  } else {
    named('response.function_call_arguments.done', { ...where, name: answer.functionName, arguments: answer.argumentPieces.join('') });
  }
  named('response.output_item.done', { output_index: 0, item });
  const response = buildResponse(meta, request, body, answer, usage);
  named(response['status'] === 'incomplete' ? 'response.incomplete' : 'response.completed', { response });
  return { events, openingEvents };
}

/**
 * Responses' stream faults: the malformed event is an output_text.delta, and the error event the `error` event OpenAI
 * sends when it fails mid-stream, numbered as the event it replaces (planStream cuts the stream at its middle).
 */
export function responsesStreamDialect(eventCount: number): StreamDialect {
  const half = Math.max(1, Math.floor(Math.max(1, eventCount - 1) / 2));
  return {
    malformedEventName: 'response.output_text.delta',
    errorEvent: {
      event: 'error',
      payload: JSON.stringify({ type: 'error', code: 'server_error', message: 'The server had an error while processing your request. Sorry about that!', param: null, sequence_number: half }),
      delayBeforeMs: 0,
    },
  };
}
