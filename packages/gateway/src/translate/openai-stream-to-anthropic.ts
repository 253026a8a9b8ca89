import { isRecord } from '@dosrouter/shared';
import { messageIdOf, messagesUsageOf, stopReasonOf, toolUseIdOf, type AnswerNames } from './anthropic-to-openai.js';
import type { ContentBlock, ContentBlockDelta, ErrorType, Message, MessageStreamEvent, StopReason, Usage } from './anthropic-types.js';
import { SseCutter, parseSseEvent, translateEvents } from './sse-events.js';

/** The kind of the content block being streamed. */
type OpenBlock = { readonly index: number; readonly kind: 'text' | 'thinking' } | { readonly index: number; readonly kind: 'tool_use'; readonly call: number };

/**
 * A Chat Completions stream as Anthropic's Messages events, incrementally: each `push` takes what the backend sent
 * (server-sent events, possibly cut anywhere) and returns the events to send, keeping only an unfinished event and the
 * state of the block being streamed. Reasoning deltas become a thinking block, content a text block, each tool call a
 * tool_use block (its arguments `input_json_delta`s); a finish reason becomes `message_delta`'s `stop_reason`, the
 * usage chunk its usage, `[DONE]` `message_stop`. An error chunk becomes an `error` event and ends the translation.
 */
export class ChatStreamToMessages {
  private readonly cutter = new SseCutter();
  private started = false;
  private ended = false;
  private open: OpenBlock | undefined;
  private nextIndex = 0;
  /** Block index of each tool call by its Chat `index`. */
  private readonly toolBlocks = new Map<number, number>();
  private stopReason: StopReason | null = null;
  private usage: Usage | undefined;
  private model: string;
  private id: string | undefined;

  constructor(private readonly names: AnswerNames) {
    this.model = names.model;
  }

  /** True once `message_stop` or an error event went out: nothing follows either. */
  get done(): boolean {
    return this.ended;
  }

  /** Feeds Chat server-sent events as text; returns the Messages events to send ('' when none are complete yet). */
  push(text: string): string {
    return translateEvents(this.cutter, text, (event) => this.event(event), () => this.ended);
  }

  /** Ends a complete answer: closes the open block, then `message_delta` and `message_stop`. */
  finish(): string {
    if (this.ended) return '';
    let out = this.start();
    out += this.closeBlock();
    const usage = this.usage ?? messagesUsageOf(undefined);
    out += sse({
      type: 'message_delta',
      delta: { stop_reason: this.stopReason ?? 'end_turn', stop_sequence: null },
      usage: {
        output_tokens: usage.output_tokens,
        input_tokens: usage.input_tokens,
        cache_creation_input_tokens: usage.cache_creation_input_tokens,
        cache_read_input_tokens: usage.cache_read_input_tokens,
      },
    });
    out += sse({ type: 'message_stop' });
    this.ended = true;
    return out;
  }

  /** An `error` event (after which nothing is sent). */
  error(type: ErrorType, message: string): string {
    if (this.ended) return '';
    this.ended = true;
    return sse({ type: 'error', error: { type, message } });
  }

  private event(event: string): string {
    const { data } = parseSseEvent(event);
    // Most events are a text delta while a text block is open: their JSON string goes into the Anthropic event as
    // it is, without parsing the chunk and serialising the delta again.
    if (data !== undefined && this.open?.kind === 'text') {
      const text = plainContentLiteral(data);
      if (text === '""') return '';
      if (text !== undefined) return `event: content_block_delta\ndata: {"type":"content_block_delta","index":${this.open.index},"delta":{"type":"text_delta","text":${text}}}\n\n`;
    }
    // A comment (an OpenAI-compatible server's keep-alive) is Anthropic's ping.
    if (data === undefined) return this.started && event.startsWith(':') ? sse({ type: 'ping' }) : '';
    if (data === '[DONE]') return this.finish();
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      return this.error('api_error', 'The backend sent a malformed stream event.');
    }
    if (!isRecord(chunk)) return '';
    if (chunk.error !== undefined) return this.error(...errorOf(chunk.error));
    if (typeof chunk.model === 'string' && !this.started) this.model = chunk.model;
    if (typeof chunk.id === 'string' && this.id === undefined) this.id = chunk.id;
    let out = this.start();
    if (isRecord(chunk.usage)) this.usage = messagesUsageOf(chunk.usage);
    const choice = Array.isArray(chunk.choices) ? chunk.choices.find((entry) => isRecord(entry) && (entry.index ?? 0) === 0) : undefined;
    if (!isRecord(choice)) return out;
    const delta = isRecord(choice.delta) ? choice.delta : {};
    const reasoning = stringOf(delta.reasoning_content) || stringOf(delta.reasoning);
    if (reasoning !== '') out += this.delta('thinking', { type: 'thinking_delta', thinking: reasoning });
    const content = stringOf(delta.content) + stringOf(delta.refusal);
    if (content !== '') out += this.delta('text', { type: 'text_delta', text: content });
    if (Array.isArray(delta.tool_calls)) out += this.toolCalls(delta.tool_calls as unknown[]);
    if (choice.finish_reason !== undefined && choice.finish_reason !== null) {
      this.stopReason = stopReasonOf(choice.finish_reason);
      out += this.closeBlock();
    }
    return out;
  }

  /** `message_start` (with no usage yet: `message_delta` carries it) and a ping, once. */
  private start(): string {
    if (this.started) return '';
    this.started = true;
    const message = {
      id: messageIdOf(this.id, this.names),
      type: 'message' as const,
      role: 'assistant' as const,
      model: this.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    };
    return sse({ type: 'message_start', message }) + sse({ type: 'ping' });
  }

  /** A text or thinking delta, in the open block of that kind or a new one. */
  private delta(kind: 'text' | 'thinking', delta: { type: 'text_delta'; text: string } | { type: 'thinking_delta'; thinking: string }): string {
    let out = '';
    if (this.open?.kind !== kind) {
      out += this.closeBlock();
      const index = this.nextIndex++;
      this.open = { index, kind };
      const block = kind === 'text' ? { type: 'text' as const, text: '', citations: null } : { type: 'thinking' as const, thinking: '', signature: '' };
      out += sse({ type: 'content_block_start', index, content_block: block });
    }
    return out + sse({ type: 'content_block_delta', index: this.open!.index, delta });
  }

  /** Tool-call deltas: a call's first delta (its id and name) opens a tool_use block, its arguments stream into it. */
  private toolCalls(calls: readonly unknown[]): string {
    let out = '';
    calls.forEach((call, position) => {
      if (!isRecord(call)) return;
      const callIndex = typeof call.index === 'number' ? call.index : position;
      const fn = isRecord(call.function) ? call.function : {};
      let index = this.toolBlocks.get(callIndex);
      if (index === undefined) {
        out += this.closeBlock();
        index = this.nextIndex++;
        this.toolBlocks.set(callIndex, index);
        this.open = { index, kind: 'tool_use', call: callIndex };
        const id = toolUseIdOf(call.id, this.names, index);
        out += sse({ type: 'content_block_start', index, content_block: { type: 'tool_use', id, name: stringOf(fn.name), input: {} } });
      }
      const json = stringOf(fn.arguments);
      if (json !== '') out += sse({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: json } });
    });
    return out;
  }

  private closeBlock(): string {
    if (this.open === undefined) return '';
    const { index } = this.open;
    this.open = undefined;
    return sse({ type: 'content_block_stop', index });
  }
}

/**
 * A whole Message as the events of a stream, for a streamed request whose backend answered whole: each block opened
 * empty, given its content in one delta, and closed; then `message_delta` with the stop reason and usage.
 */
export function messageAsEvents(message: Message): string {
  let out = sse({ type: 'message_start', message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { ...message.usage, output_tokens: 0 } } });
  message.content.forEach((block, index) => {
    const [empty, delta] = emptyAndDelta(block);
    out += sse({ type: 'content_block_start', index, content_block: empty });
    if (delta !== undefined) out += sse({ type: 'content_block_delta', index, delta });
    out += sse({ type: 'content_block_stop', index });
  });
  const { usage } = message;
  out += sse({ type: 'message_delta', delta: { stop_reason: message.stop_reason, stop_sequence: message.stop_sequence }, usage });
  return out + sse({ type: 'message_stop' });
}

function emptyAndDelta(block: ContentBlock): [ContentBlock, ContentBlockDelta | undefined] {
  switch (block.type) {
    case 'text':
      return [{ ...block, text: '' }, { type: 'text_delta', text: block.text }];
    case 'thinking':
      return [{ ...block, thinking: '' }, { type: 'thinking_delta', thinking: block.thinking }];
    case 'tool_use':
      return [{ ...block, input: {} }, { type: 'input_json_delta', partial_json: JSON.stringify(block.input) }];
    default:
      return [block, undefined];
  }
}

/** One Messages event as Anthropic sends it: its type as the event name, then its JSON. */
export function sse(event: MessageStreamEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

const CONTENT_DELTA = '"delta":{"content":"';
/** What a chunk may not have for its content to be copied: usage, an error, a finish reason, another choice's delta. */
const NOT_PLAIN = /"usage"\s*:\s*\{|"error"\s*:|"finish_reason"\s*:\s*"/;

/**
 * The JSON string literal of a chunk whose one choice's delta is only `content`, written as OpenAI writes it
 * (`"delta":{"content":"…"}`), with no usage, error or finish reason; undefined for any other chunk or spelling,
 * which takes the parsing path (to the same events).
 */
export function plainContentLiteral(data: string): string | undefined {
  const at = data.indexOf(CONTENT_DELTA);
  if (at === -1 || data.indexOf(CONTENT_DELTA, at + 1) !== -1) return undefined;
  const start = at + CONTENT_DELTA.length - 1;
  let end = start + 1;
  for (; end < data.length; end += 1) {
    const code = data.charCodeAt(end);
    if (code === 0x5c) end += 1;
    else if (code === 0x22) break;
  }
  if (end >= data.length || data.charCodeAt(end + 1) !== 0x7d || NOT_PLAIN.test(data)) return undefined;
  return data.slice(start, end + 1);
}

/** An OpenAI-shaped error (the backend's, or the gateway's own error event) as an Anthropic error type and message. */
function errorOf(error: unknown): [ErrorType, string] {
  if (typeof error === 'string') return ['api_error', error];
  const record = isRecord(error) ? error : {};
  const message = typeof record.message === 'string' ? record.message : 'The backend failed while streaming.';
  const code = String(record.code ?? record.type ?? '');
  if (/rate_limit/.test(code)) return ['rate_limit_error', message];
  if (/saturated|overloaded/.test(code)) return ['overloaded_error', message];
  if (/timeout/.test(code)) return ['timeout_error', message];
  return ['api_error', message];
}

function stringOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
