import { isRecord } from '@dosrouter/shared';
import { ChatChunks } from './chat-chunks.js';
import { chatUsageOfResponse, finishReasonOfResponse } from './chat-to-responses.js';
import { SseCutter, parseSseEvent, translateEvents } from './sse-events.js';

/**
 * The largest Responses event kept while its end has not arrived. The closing event repeats the whole answer, so it
 * may be large; one past this is not a stream the gateway relays (the relay reads whole answers up to 64 MiB too).
 */
const MAX_EVENT_CHARS = 64 * 1024 * 1024;
/** An output_text delta's data as OpenAI starts it: its `delta` string is copied into the chunk without parsing. */
const TEXT_DELTA_START = '{"type":"response.output_text.delta"';
const DELTA_KEY = '"delta":"';

export interface ChatStreamOptions {
  /** `created` of every chunk, in seconds. */
  readonly created: number;
  /** End with a usage chunk (`choices: []`): the client asked for one, or the gateway did (and drops it). */
  readonly includeUsage: boolean;
}

/**
 * A Responses event stream → a Chat Completions chunk stream, event by event as the bytes arrive, keeping only the
 * event being cut, the response's id and model, and which output item is which tool call: memory does not grow with
 * the answer. response.created → the role chunk; output_text deltas → `content`; refusal deltas → `refusal`;
 * reasoning text and summary deltas → `reasoning_content`; a function_call item → a tool call (`index`, `id` = its
 * `call_id`, `name`) whose argument deltas are its `arguments`; response.completed or .incomplete → the finish chunk
 * (`tool_calls`, `length`, `content_filter` or `stop`), the usage chunk when asked for, and `[DONE]`; response.failed
 * and error events → an OpenAI-shaped error event, which ends the translation. Other events are skipped.
 */
export class ResponsesToChatStream {
  /** The closing event arrived: the answer is complete. */
  stopped = false;
  /** An error arrived, or an event that is not Responses' JSON. */
  failed = false;
  private readonly cutter = new SseCutter();
  private readonly chunks = new ChatChunks();
  /** Output index → tool call index, for the items that are function calls. */
  private readonly toolCalls = new Map<number, number>();

  constructor(private readonly options: ChatStreamOptions) {}

  /** Feeds Responses bytes; returns the Chat Completions events they complete ('' when none). */
  push(chunk: Buffer): string {
    if (this.failed || this.stopped) return '';
    const out = translateEvents(this.cutter, chunk, (event) => this.translate(event), () => this.failed || this.stopped);
    return this.cutter.pendingLength > MAX_EVENT_CHARS ? out + this.malformed() : out;
  }

  private translate(event: string): string {
    const { data } = parseSseEvent(event);
    if (data === undefined || data === '') return '';
    if (data.startsWith(TEXT_DELTA_START)) {
      const literal = deltaLiteral(data);
      if (literal === '""') return '';
      if (literal !== undefined) return this.chunkOf(`{"content":${literal}}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return this.malformed();
    }
    if (!isRecord(parsed)) return this.malformed();
    switch (parsed.type) {
      case 'response.created':
        return this.started(parsed.response);
      case 'response.output_text.delta':
        return this.delta('content', parsed.delta);
      case 'response.refusal.delta':
        return this.delta('refusal', parsed.delta);
      case 'response.reasoning_text.delta':
      case 'response.reasoning_summary_text.delta':
        return this.delta('reasoning_content', parsed.delta);
      case 'response.output_item.added':
        return this.itemAdded(parsed.output_index, parsed.item);
      case 'response.function_call_arguments.delta': {
        const call = typeof parsed.output_index === 'number' ? this.toolCalls.get(parsed.output_index) : undefined;
        if (call === undefined || typeof parsed.delta !== 'string' || parsed.delta === '') return '';
        return this.chunk({ tool_calls: [{ index: call, function: { arguments: parsed.delta } }] });
      }
      case 'response.completed':
      case 'response.incomplete':
        return this.finished(isRecord(parsed.response) ? parsed.response : {});
      case 'response.failed': {
        const response = isRecord(parsed.response) ? parsed.response : {};
        return this.errorEvent(isRecord(response.error) ? response.error : {});
      }
      case 'error':
        return this.errorEvent(isRecord(parsed.error) ? parsed.error : parsed);
      default:
        return '';
    }
  }

  private started(response: unknown): string {
    if (!isRecord(response)) return this.malformed();
    const id = typeof response.id === 'string' ? response.id : '';
    const model = typeof response.model === 'string' ? response.model : '';
    this.chunks.start(id, this.options.created, model);
    return this.chunk({ role: 'assistant', content: '' });
  }

  private delta(field: 'content' | 'refusal' | 'reasoning_content', delta: unknown): string {
    return typeof delta === 'string' && delta !== '' ? this.chunk({ [field]: delta }) : '';
  }

  private itemAdded(outputIndex: unknown, item: unknown): string {
    if (!isRecord(item) || item.type !== 'function_call' || typeof outputIndex !== 'number') return '';
    const call = this.toolCalls.size;
    this.toolCalls.set(outputIndex, call);
    const args = typeof item.arguments === 'string' ? item.arguments : '';
    return this.chunk({ tool_calls: [{ index: call, id: item.call_id, type: 'function', function: { name: item.name, arguments: args } }] });
  }

  private finished(response: Record<string, unknown>): string {
    this.stopped = true;
    let out = this.chunk({}, finishReasonOfResponse(response, this.toolCalls.size > 0));
    if (this.options.includeUsage) out += this.chunks.usage(chatUsageOfResponse(response.usage));
    return `${out}data: [DONE]\n\n`;
  }

  private chunk(delta: Record<string, unknown>, finishReason: string | null = null): string {
    return this.chunkOf(JSON.stringify(delta), finishReason);
  }

  /** A chunk whose delta is the JSON text `delta`. */
  private chunkOf(delta: string, finishReason: string | null = null): string {
    // Content before response.created: not a Responses stream.
    return this.chunks.started ? this.chunks.chunk(delta, finishReason) : this.malformed();
  }

  private errorEvent(error: Record<string, unknown>, code?: string): string {
    this.failed = true;
    const message = typeof error.message === 'string' && error.message !== '' ? error.message : 'The backend failed while streaming.';
    const errorCode = code ?? (typeof error.code === 'string' ? error.code : 'upstream_error');
    const type = /rate_limit/.test(errorCode) ? 'rate_limit_error' : /invalid/.test(errorCode) ? 'invalid_request_error' : 'server_error';
    return `data: ${JSON.stringify({ error: { message, type, param: null, code: errorCode } })}\n\n`;
  }

  private malformed(): string {
    return this.errorEvent({ message: 'The backend sent a malformed Responses stream event.' }, 'upstream_malformed_response');
  }
}

/** The JSON string literal of an output_text delta's `delta`, as OpenAI writes it; undefined for another spelling. */
function deltaLiteral(data: string): string | undefined {
  const at = data.indexOf(DELTA_KEY);
  if (at === -1) return undefined;
  const start = at + DELTA_KEY.length - 1;
  for (let end = start + 1; end < data.length; end += 1) {
    const code = data.charCodeAt(end);
    if (code === 0x5c) end += 1;
    else if (code === 0x22) return data.slice(start, end + 1);
  }
  return undefined;
}
