import type { ResolvedModel } from '../../config/parse-simulator-options.js';
import type { StreamDialect, StreamEvent } from '../../delivery/event-stream.js';
import { tokenEvents } from '../../delivery/stream-steps.js';
import type { ReportedUsage } from '../../state/usage-ledger.js';
import { piecesOfBlock, type MessagesAnswer, type MessagesBlock } from './messages-answer.js';
import type { MessagesCacheUsage } from './messages-cache.js';

/** Anthropic's usage object, in the order the API writes its fields. */
export interface MessagesUsage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
  output_tokens: number;
  service_tier: 'standard';
}

export function buildMessagesUsage(cache: MessagesCacheUsage, outputTokens: number): MessagesUsage {
  return {
    input_tokens: cache.inputTokens,
    cache_creation_input_tokens: cache.cacheWriteTokens['5m'] + cache.cacheWriteTokens['1h'],
    cache_read_input_tokens: cache.cacheReadTokens,
    cache_creation: { ephemeral_5m_input_tokens: cache.cacheWriteTokens['5m'], ephemeral_1h_input_tokens: cache.cacheWriteTokens['1h'] },
    output_tokens: outputTokens,
    service_tier: 'standard',
  };
}

/**
 * What the ledger counts of a Messages answer, in OpenAI's terms: prompt tokens are all input tokens (the uncached
 * rest, cache reads and cache writes), as OpenAI's prompt_tokens include its cached tokens.
 */
export function ledgerUsageOf(usage: MessagesUsage): ReportedUsage {
  return {
    prompt_tokens: usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens,
    completion_tokens: usage.output_tokens,
    prompt_tokens_details: { cached_tokens: usage.cache_read_input_tokens },
    cache_write_tokens: usage.cache_creation_input_tokens,
  };
}

function contentOf(block: MessagesBlock): Record<string, unknown> {
  switch (block.kind) {
    case 'thinking':
      return { type: 'thinking', thinking: block.tokens.join(''), signature: block.signature };
    case 'text':
      return { type: 'text', text: block.tokens.join('') };
    case 'tool_use':
      return { type: 'tool_use', id: block.id, name: block.name, input: JSON.parse(block.inputPieces.join('')) as unknown };
  }
}

export interface MessageMeta {
  id: string;
  modelId: string;
}

/** The non-streaming `message` object; without `usage` when the model reports none. */
export function buildMessage(meta: MessageMeta, answer: MessagesAnswer, usage: MessagesUsage | undefined): Record<string, unknown> {
  return {
    id: meta.id,
    type: 'message',
    role: 'assistant',
    model: meta.modelId,
    content: answer.blocks.map(contentOf),
    stop_reason: answer.stopReason,
    stop_sequence: answer.stopSequence,
    ...(usage === undefined ? {} : { usage }),
  };
}

function startingContentOf(block: MessagesBlock): Record<string, unknown> {
  switch (block.kind) {
    case 'thinking':
      return { type: 'thinking', thinking: '' };
    case 'text':
      return { type: 'text', text: '' };
    case 'tool_use':
      return { type: 'tool_use', id: block.id, name: block.name, input: {} };
  }
}

function deltaOf(block: MessagesBlock, piece: string): Record<string, unknown> {
  switch (block.kind) {
    case 'thinking':
      return { type: 'thinking_delta', thinking: piece };
    case 'text':
      return { type: 'text_delta', text: piece };
    case 'tool_use':
      return { type: 'input_json_delta', partial_json: piece };
  }
}

function named(event: string, data: Record<string, unknown>, delayBeforeMs = 0): StreamEvent {
  return { event, payload: JSON.stringify({ type: event, ...data }), delayBeforeMs };
}

/**
 * Anthropic's stream faults: the malformed event is a content_block_delta (its SDKs skip unnamed events), and the
 * error event is the overloaded_error Anthropic sends mid-stream when it is short of capacity.
 */
export const MESSAGES_STREAM_DIALECT: StreamDialect = {
  malformedEventName: 'content_block_delta',
  errorEvent: named('error', { error: { type: 'overloaded_error', message: 'Overloaded' } }),
};

/**
 * The events of a Messages stream, exactly as Anthropic sends them: message_start (the message with no content and
 * the input usage, output_tokens 1), then per block content_block_start, one content_block_delta per token
 * (text_delta, thinking_delta then one signature_delta, or input_json_delta), content_block_stop; a ping after the
 * first block starts; message_delta with the stop reason and the total output_tokens; message_stop. A model that
 * reports no usage (`reportsUsage: false`) sends neither message_start's nor message_delta's usage. message_start
 * waits for the first token, so time-to-first-event measures time-to-first-token, as in the chat stream.
 */
export function buildMessagesStreamEvents(
  meta: MessageMeta,
  answer: MessagesAnswer,
  usage: MessagesUsage | undefined,
  model: ResolvedModel,
): StreamEvent[] {
  const startUsage = usage === undefined ? undefined : { ...usage, output_tokens: 1 };
  const message = { ...buildMessage(meta, { ...answer, blocks: [] }, startUsage), stop_reason: null, stop_sequence: null };
  const events: StreamEvent[] = [named('message_start', { message }, model.firstTokenDelayMs)];
  answer.blocks.forEach((block, index) => {
    events.push(named('content_block_start', { index, content_block: startingContentOf(block) }));
    if (index === 0) {
      events.push(named('ping', {}));
    }
    const encode = (current: MessagesBlock, piece: string): string =>
      JSON.stringify({ type: 'content_block_delta', index, delta: deltaOf(current, piece) });
    events.push(
      ...tokenEvents([block], piecesOfBlock, encode, index === 0 ? 0 : model.interTokenDelayMs, model.interTokenDelayMs, 'content_block_delta'),
    );
    if (block.kind === 'thinking') {
      events.push(named('content_block_delta', { index, delta: { type: 'signature_delta', signature: block.signature } }));
    }
    events.push(named('content_block_stop', { index }));
  });
  if (answer.blocks.length === 0) {
    events.push(named('ping', {}));
  }
  events.push(
    named('message_delta', {
      delta: { stop_reason: answer.stopReason, stop_sequence: answer.stopSequence },
      ...(usage === undefined ? {} : { usage: { output_tokens: usage.output_tokens } }),
    }),
    named('message_stop', {}),
  );
  return events;
}
