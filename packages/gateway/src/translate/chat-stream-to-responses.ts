import { isRecord } from '@dosrouter/shared';
import { plainContentLiteral } from './openai-stream-to-anthropic.js';
import { emptyResponse, itemId, responseUsageOf, statusOf, type ResponseNames } from './responses-to-chat.js';
import type { OutputItem, OutputRefusal, OutputText, ResponseObject, ResponseUsage } from './responses-types.js';
import { SseCutter, parseSseEvent, translateEvents } from './sse-events.js';

/**
 * The most text a translated answer may hold. Responses repeats an item's whole text in its closing events
 * (`response.output_text.done`, `response.output_item.done`, `response.completed`), so the translator keeps the text
 * of the answer (never its events); past this the stream ends as failed. The relay reads whole answers up to 64 MiB too.
 */
const MAX_OUTPUT_CHARS = 64 * 1024 * 1024;

/** The message item being streamed: its parts so far and the one open (output_text or refusal). */
interface OpenMessage {
  readonly kind: 'message';
  readonly outputIndex: number;
  readonly id: string;
  readonly parts: Array<OutputText | OutputRefusal>;
  part: { readonly type: 'output_text' | 'refusal'; readonly pieces: string[] } | undefined;
}

interface OpenReasoning {
  readonly kind: 'reasoning';
  readonly outputIndex: number;
  readonly id: string;
  readonly pieces: string[];
}

interface OpenCall {
  readonly outputIndex: number;
  readonly id: string;
  readonly callId: string;
  readonly name: string;
  readonly pieces: string[];
}

/**
 * A Chat Completions stream as the Responses event protocol, incrementally, exactly as the `openai` SDK reads it: each
 * `push` takes what the backend sent (server-sent events, cut anywhere) and returns the events to send. The first
 * chunk gives `response.created` and `response.in_progress`; reasoning deltas a reasoning item (`reasoning_text`
 * deltas), content and refusal deltas a message item with an `output_text` and a `refusal` part, each tool call a
 * function_call item (`function_call_arguments.delta`); an item's `.done` events when the next kind begins, tool calls
 * at the end; `[DONE]` the closing `response.completed` (or `response.incomplete`) with usage. An error chunk (the
 * backend's, or the gateway's own error event) becomes `response.failed` and an `error` event, and ends the
 * translation. Every event carries its `sequence_number`.
 */
export class ChatStreamToResponses {
  private readonly cutter = new SseCutter();
  private sequence = 0;
  private started = false;
  private ended = false;
  private model: string;
  private nextOutputIndex = 0;
  private readonly output: OutputItem[] = [];
  private open: OpenMessage | OpenReasoning | undefined;
  /** Tool calls by their Chat `index`, open until the answer ends. */
  private readonly calls = new Map<number, OpenCall>();
  private finishReason: unknown;
  private usage: ResponseUsage | undefined;
  private chars = 0;

  constructor(
    private readonly names: ResponseNames,
    /** Told the finished Response (completed or incomplete) just before its closing event is returned. */
    private readonly onFinished?: (response: ResponseObject) => void,
  ) {
    this.model = names.model;
  }

  /** True once the closing event or an error event went out: nothing follows either. */
  get done(): boolean {
    return this.ended;
  }

  /** Feeds Chat server-sent events as text; returns the Responses events to send ('' when none are complete yet). */
  push(text: string): string {
    return translateEvents(this.cutter, text, (event) => this.event(event), () => this.ended);
  }

  /** One Chat chunk, already parsed (a whole answer sent as a stream goes through here). */
  chunk(chunk: Record<string, unknown>): string {
    if (this.ended) return '';
    if (chunk.error !== undefined) return this.fail(chunk.error);
    if (typeof chunk.model === 'string' && chunk.model !== '' && !this.started) this.model = chunk.model;
    let out = this.start();
    if (isRecord(chunk.usage)) this.usage = responseUsageOf(chunk.usage);
    const choice = Array.isArray(chunk.choices) ? chunk.choices.find((entry) => isRecord(entry) && (entry.index ?? 0) === 0) : undefined;
    if (!isRecord(choice)) return out;
    const delta = isRecord(choice.delta) ? choice.delta : {};
    const reasoning = stringOf(delta.reasoning_content) || stringOf(delta.reasoning);
    if (reasoning !== '') out += this.reasoningDelta(reasoning);
    const content = stringOf(delta.content);
    if (content !== '') out += this.textDelta('output_text', JSON.stringify(content), content);
    const refusal = stringOf(delta.refusal);
    if (refusal !== '') out += this.textDelta('refusal', JSON.stringify(refusal), refusal);
    if (Array.isArray(delta.tool_calls)) out += this.toolCalls(delta.tool_calls as unknown[]);
    if (choice.finish_reason !== undefined && choice.finish_reason !== null) {
      this.finishReason = choice.finish_reason;
      out += this.closeOpen();
    }
    if (this.chars > MAX_OUTPUT_CHARS) return out + this.fail({ message: 'The answer is larger than the gateway translates.', code: 'server_error' });
    return out;
  }

  /** Ends a complete answer: closes what is open, then `response.completed` (or `.incomplete`) with the usage. */
  finish(): string {
    if (this.ended) return '';
    let out = this.start() + this.closeOpen();
    for (const call of this.calls.values()) out += this.closeCall(call);
    this.calls.clear();
    this.ended = true;
    const response: ResponseObject = {
      ...emptyResponse(this.names, this.model, 'completed'),
      ...statusOf(this.finishReason),
      output: this.output.filter((item) => item !== undefined),
      // A backend that reported no usage: unknown, not zero (the gateway's own estimate goes to the usage record).
      usage: this.usage ?? null,
      completed_at: this.names.createdAt,
    };
    this.onFinished?.(response);
    return out + this.sse(response.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response });
  }

  /** `response.failed` with what was output so far, then an `error` event; nothing follows. */
  fail(error: unknown): string {
    if (this.ended) return '';
    const out = this.start();
    this.ended = true;
    const { code, message } = errorOf(error);
    const response: ResponseObject = {
      ...emptyResponse(this.names, this.model, 'failed'),
      error: { code, message },
      output: this.output.filter((item) => item !== undefined),
      ...(this.usage ? { usage: this.usage } : {}),
    };
    return out + this.sse('response.failed', { response }) + this.sse('error', { code, message, param: null });
  }

  private event(event: string): string {
    const { data } = parseSseEvent(event);
    // Most events are a text delta while the text part is open: its JSON string goes into the Responses event as it
    // is, without parsing the chunk and serialising the delta again.
    if (data !== undefined && this.open?.kind === 'message' && this.open.part?.type === 'output_text') {
      const literal = plainContentLiteral(data);
      if (literal === '""') return '';
      if (literal !== undefined) return this.textDelta('output_text', literal, JSON.parse(literal) as string);
    }
    // A comment (a backend's keep-alive) is passed on: clients ignore it, proxies see the stream alive.
    if (data === undefined) return event.startsWith(':') ? event : '';
    if (data === '[DONE]') return this.finish();
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      return this.fail({ message: 'The backend sent a malformed stream event.', code: 'server_error' });
    }
    return isRecord(chunk) ? this.chunk(chunk) : '';
  }

  /** `response.created` and `response.in_progress`, once. */
  private start(): string {
    if (this.started) return '';
    this.started = true;
    return this.sse('response.created', { response: emptyResponse(this.names, this.model, 'in_progress') })
      + this.sse('response.in_progress', { response: emptyResponse(this.names, this.model, 'in_progress') });
  }

  private reasoningDelta(text: string): string {
    let out = '';
    if (this.open?.kind !== 'reasoning') {
      out += this.closeOpen();
      const outputIndex = this.nextOutputIndex++;
      const id = itemId(this.names, 'rs', outputIndex);
      this.open = { kind: 'reasoning', outputIndex, id, pieces: [] };
      out += this.sse('response.output_item.added', { output_index: outputIndex, item: { id, type: 'reasoning', summary: [], status: 'in_progress' } });
      out += this.sse('response.content_part.added', { item_id: id, output_index: outputIndex, content_index: 0, part: { type: 'reasoning_text', text: '' } });
    }
    const open = this.open as OpenReasoning;
    open.pieces.push(text);
    this.chars += text.length;
    return out + this.sse('response.reasoning_text.delta', { item_id: open.id, output_index: open.outputIndex, content_index: 0, delta: text });
  }

  /** A text or refusal delta (`literal` its JSON string, `text` its value), in the open part of that kind or a new one. */
  private textDelta(type: 'output_text' | 'refusal', literal: string, text: string): string {
    let out = '';
    if (this.open?.kind !== 'message') {
      out += this.closeOpen();
      const outputIndex = this.nextOutputIndex++;
      const id = itemId(this.names, 'msg', outputIndex);
      this.open = { kind: 'message', outputIndex, id, parts: [], part: undefined };
      out += this.sse('response.output_item.added', { output_index: outputIndex, item: { id, type: 'message', status: 'in_progress', content: [], role: 'assistant' } });
    }
    const open = this.open as OpenMessage;
    if (open.part?.type !== type) {
      out += this.closePart(open);
      open.part = { type, pieces: [] };
      const part = type === 'output_text' ? { type, annotations: [], logprobs: [], text: '' } : { type, refusal: '' };
      out += this.sse('response.content_part.added', { item_id: open.id, output_index: open.outputIndex, content_index: open.parts.length, part });
    }
    open.part!.pieces.push(text);
    this.chars += text.length;
    const contentIndex = open.parts.length;
    if (type === 'refusal') return out + this.sse('response.refusal.delta', { item_id: open.id, output_index: open.outputIndex, content_index: contentIndex, delta: text });
    return `${out}event: response.output_text.delta\ndata: {"type":"response.output_text.delta","item_id":"${open.id}","output_index":${open.outputIndex},"content_index":${contentIndex},"delta":${literal},"logprobs":[],"sequence_number":${this.sequence++}}\n\n`;
  }

  /** Tool-call deltas: a call's first delta (its id and name) opens a function_call item, its arguments stream into it. */
  private toolCalls(calls: readonly unknown[]): string {
    let out = '';
    calls.forEach((entry, position) => {
      if (!isRecord(entry)) return;
      const index = typeof entry.index === 'number' ? entry.index : position;
      const fn = isRecord(entry.function) ? entry.function : {};
      let call = this.calls.get(index);
      if (call === undefined) {
        out += this.closeOpen();
        const outputIndex = this.nextOutputIndex++;
        const id = itemId(this.names, 'fc', outputIndex);
        call = { outputIndex, id, callId: stringOf(entry.id) || `call_${id}`, name: stringOf(fn.name), pieces: [] };
        this.calls.set(index, call);
        out += this.sse('response.output_item.added', { output_index: outputIndex, item: { id, type: 'function_call', status: 'in_progress', arguments: '', call_id: call.callId, name: call.name } });
      }
      const piece = stringOf(fn.arguments);
      if (piece === '') return;
      call.pieces.push(piece);
      this.chars += piece.length;
      out += this.sse('response.function_call_arguments.delta', { item_id: call.id, output_index: call.outputIndex, delta: piece });
    });
    return out;
  }

  private closeCall(call: OpenCall): string {
    const args = call.pieces.join('');
    const item = { id: call.id, type: 'function_call' as const, status: 'completed' as const, arguments: args, call_id: call.callId, name: call.name };
    this.output[call.outputIndex] = item;
    return this.sse('response.function_call_arguments.done', { item_id: call.id, output_index: call.outputIndex, name: call.name, arguments: args })
      + this.sse('response.output_item.done', { output_index: call.outputIndex, item });
  }

  /** Closes the open message or reasoning item: its part's `.done` events, then `response.output_item.done`. */
  private closeOpen(): string {
    const open = this.open;
    if (open === undefined) return '';
    this.open = undefined;
    if (open.kind === 'reasoning') {
      const text = open.pieces.join('');
      const item: OutputItem = { id: open.id, type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text }], status: 'completed' };
      this.output[open.outputIndex] = item;
      const where = { item_id: open.id, output_index: open.outputIndex, content_index: 0 };
      return this.sse('response.reasoning_text.done', { ...where, text })
        + this.sse('response.content_part.done', { ...where, part: { type: 'reasoning_text', text } })
        + this.sse('response.output_item.done', { output_index: open.outputIndex, item });
    }
    const out = this.closePart(open);
    const item: OutputItem = { id: open.id, type: 'message', status: 'completed', content: open.parts, role: 'assistant' };
    this.output[open.outputIndex] = item;
    return out + this.sse('response.output_item.done', { output_index: open.outputIndex, item });
  }

  private closePart(open: OpenMessage): string {
    const part = open.part;
    if (part === undefined) return '';
    open.part = undefined;
    const text = part.pieces.join('');
    const where = { item_id: open.id, output_index: open.outputIndex, content_index: open.parts.length };
    if (part.type === 'refusal') {
      const done: OutputRefusal = { type: 'refusal', refusal: text };
      open.parts.push(done);
      return this.sse('response.refusal.done', { ...where, refusal: text }) + this.sse('response.content_part.done', { ...where, part: done });
    }
    const done: OutputText = { type: 'output_text', annotations: [], logprobs: [], text };
    open.parts.push(done);
    return this.sse('response.output_text.done', { ...where, text, logprobs: [] }) + this.sse('response.content_part.done', { ...where, part: done });
  }

  /** One Responses event as OpenAI sends it: its type as the event name, then its JSON with the next sequence number. */
  private sse(type: string, fields: Record<string, unknown>): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, ...fields, sequence_number: this.sequence++ })}\n\n`;
  }
}

/**
 * A whole Chat completion as the events of a Responses stream, for a streamed request whose backend answered whole:
 * the completion's first choice is fed to the stream translator as one chunk, then the stream is finished.
 */
export function completionAsEvents(completion: unknown, names: ResponseNames, onFinished?: (response: ResponseObject) => void): string {
  const translator = new ChatStreamToResponses(names, onFinished);
  const answer = isRecord(completion) ? completion : {};
  const choice = Array.isArray(answer.choices) && isRecord(answer.choices[0]) ? answer.choices[0] : {};
  const message = isRecord(choice.message) ? choice.message : {};
  const calls = Array.isArray(message.tool_calls) ? (message.tool_calls as unknown[]).map((call, index) => (isRecord(call) ? { ...call, index } : call)) : undefined;
  const chunk = {
    ...(typeof answer.model === 'string' ? { model: answer.model } : {}),
    usage: answer.usage,
    choices: [{ index: 0, delta: { ...message, ...(calls ? { tool_calls: calls } : {}) }, finish_reason: choice.finish_reason ?? 'stop' }],
  };
  return translator.chunk(chunk) + translator.finish();
}

/** An OpenAI-shaped error (the backend's, or the gateway's own error event) as a Responses error's code and message. */
function errorOf(error: unknown): { code: string; message: string } {
  if (typeof error === 'string') return { code: 'server_error', message: error };
  const record = isRecord(error) ? error : {};
  const message = typeof record.message === 'string' && record.message !== '' ? record.message : 'The backend failed while streaming.';
  const code = String(record.code ?? record.type ?? '');
  return { code: /rate_limit/.test(code) ? 'rate_limit_exceeded' : code === '' ? 'server_error' : code, message };
}

function stringOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
