import { StringDecoder } from 'node:string_decoder';
import { isRecord } from '@dosrouter/shared';
import { ChatChunks } from './chat-chunks.js';
import { anthropicErrorMeaning } from './anthropic-error-meaning.js';
import { chatUsageOf, finishReasonOf, type MessagesUsage } from './openai-to-anthropic.js';

/**
 * The largest Messages event kept while its end has not arrived. Events are one delta or one block's start (a few
 * hundred bytes); a stream that sends more without a boundary is not one.
 */
const MAX_EVENT_BYTES = 4 * 1024 * 1024;

/**
 * A content delta exactly as Anthropic writes it, its value a JSON string literal (every quote inside escaped): the
 * literal is copied into the chunk as it is, without parsing and serialising the event again. Any other spelling
 * (spaces, another key order) takes the parsing path, with the same result.
 */
const DELTA_PATTERN = /^\{"type":"content_block_delta","index":(\d+),"delta":\{"type":"(text_delta|thinking_delta|input_json_delta)","(?:text|thinking|partial_json)":("(?:[^"\\]|\\.)*")\}\}$/;

export interface ChatStreamOptions {
  /** `created` of every chunk, in seconds. */
  readonly created: number;
  /** End with a usage chunk (`choices: []`): the client asked for one, or the gateway did (and drops it). */
  readonly includeUsage: boolean;
}

/**
 * A Messages event stream → a Chat Completions chunk stream, event by event as the bytes arrive. It keeps only
 * the event being cut, the message's id and model, the usage so far, the stop reason and which content block is
 * which tool call: memory does not grow with the answer.
 *
 * message_start → the role chunk; text_delta → `content`; thinking_delta → `reasoning_content`; a tool_use block
 * → a tool call (`index`, `id`, `name`) whose input_json_delta pieces are its `arguments`; message_delta → the stop
 * reason and usage; message_stop → the finish chunk, the usage chunk when asked for, and `[DONE]`; ping → an SSE
 * comment; error → an OpenAI-shaped error event. Unknown event types are skipped, as Anthropic's versioning asks.
 */
export class AnthropicToChatStream {
  /** Messages' usage as last reported (message_start, then each message_delta's cumulative counts). */
  readonly usage: MessagesUsage = {};
  stopReason: string | null = null;
  /** message_stop arrived: the answer is complete. */
  stopped = false;
  /** An error event arrived, or an event that is not Messages' JSON. */
  failed = false;
  private id = '';
  private model = '';
  private readonly chunks = new ChatChunks();
  private pending = '';
  private readonly decoder = new StringDecoder('utf8');
  /** Content block index → tool call index, for the blocks that are tool uses. */
  private readonly toolCalls = new Map<number, number>();

  constructor(private readonly options: ChatStreamOptions) {}

  /** Feeds Messages bytes; returns the Chat Completions events they complete ('' when none). */
  push(chunk: Buffer): string {
    if (this.failed) return '';
    let text = this.pending + this.decoder.write(chunk);
    if (text.includes('\r')) text = text.replace(/\r\n?/g, '\n');
    const boundary = text.lastIndexOf('\n\n');
    if (boundary === -1) {
      this.pending = text;
      return this.pending.length > MAX_EVENT_BYTES ? this.malformed() : '';
    }
    this.pending = text.slice(boundary + 2);
    let out = '';
    let start = 0;
    while (start <= boundary && !this.failed) {
      const end = text.indexOf('\n\n', start);
      out += this.translate(text.slice(start, end));
      start = end + 2;
    }
    return out;
  }

  private translate(event: string): string {
    const data = dataOf(event);
    if (data === undefined || data === '') return '';
    const delta = DELTA_PATTERN.exec(data);
    if (delta) return this.literalDelta(Number(delta[1]), delta[2]!, delta[3]!);
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return this.malformed();
    }
    if (!isRecord(parsed)) return this.malformed();
    switch (parsed.type) {
      case 'message_start':
        return this.started(parsed.message);
      case 'content_block_start':
        return this.blockStarted(parsed.index, parsed.content_block);
      case 'content_block_delta':
        return this.blockDelta(parsed.index, parsed.delta);
      case 'message_delta':
        if (isRecord(parsed.delta) && typeof parsed.delta.stop_reason === 'string') this.stopReason = parsed.delta.stop_reason;
        this.addUsage(parsed.usage);
        return '';
      case 'message_stop':
        return this.finished();
      case 'ping':
        return ': ping\n\n';
      case 'error':
        return this.errorEvent(isRecord(parsed.error) ? parsed.error : {});
      default:
        return ''; // content_block_stop, and event types added after this was written
    }
  }

  private started(message: unknown): string {
    if (!isRecord(message)) return this.malformed();
    this.id = typeof message.id === 'string' ? message.id : '';
    this.model = typeof message.model === 'string' ? message.model : '';
    this.chunks.start(this.id, this.options.created, this.model);
    this.addUsage(message.usage);
    return this.chunk({ role: 'assistant', content: '' });
  }

  private blockStarted(index: unknown, block: unknown): string {
    if (!isRecord(block) || typeof index !== 'number') return this.malformed();
    if (block.type === 'text' && typeof block.text === 'string' && block.text !== '') return this.chunk({ content: block.text });
    if (block.type !== 'tool_use') return '';
    const call = this.toolCalls.size;
    this.toolCalls.set(index, call);
    return this.chunk({ tool_calls: [{ index: call, id: block.id, type: 'function', function: { name: block.name, arguments: '' } }] });
  }

  private blockDelta(index: unknown, delta: unknown): string {
    if (!isRecord(delta)) return this.malformed();
    switch (delta.type) {
      case 'text_delta':
        return typeof delta.text === 'string' && delta.text !== '' ? this.chunk({ content: delta.text }) : '';
      case 'thinking_delta':
        return typeof delta.thinking === 'string' && delta.thinking !== '' ? this.chunk({ reasoning_content: delta.thinking }) : '';
      case 'input_json_delta': {
        const call = typeof index === 'number' ? this.toolCalls.get(index) : undefined;
        if (call === undefined || typeof delta.partial_json !== 'string' || delta.partial_json === '') return '';
        return this.chunk({ tool_calls: [{ index: call, function: { arguments: delta.partial_json } }] });
      }
      default:
        return ''; // signature_delta, citations_delta
    }
  }

  /** A content delta whose value is the JSON string `literal`, as DELTA_PATTERN found it. */
  private literalDelta(index: number, type: string, literal: string): string {
    if (literal === '""') return '';
    if (type === 'text_delta') return this.chunkOf(`{"content":${literal}}`);
    if (type === 'thinking_delta') return this.chunkOf(`{"reasoning_content":${literal}}`);
    const call = this.toolCalls.get(index);
    return call === undefined ? '' : this.chunkOf(`{"tool_calls":[{"index":${call},"function":{"arguments":${literal}}}]}`);
  }

  private finished(): string {
    this.stopped = true;
    let out = this.chunk({}, finishReasonOf(this.stopReason));
    if (this.options.includeUsage) out += this.chunks.usage(chatUsageOf(this.usage));
    return `${out}data: [DONE]\n\n`;
  }

  private addUsage(usage: unknown): void {
    if (!isRecord(usage)) return;
    for (const name of ['input_tokens', 'output_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'] as const) {
      const value = usage[name];
      if (typeof value === 'number') this.usage[name] = value;
    }
    if (isRecord(usage.cache_creation)) this.usage.cache_creation = usage.cache_creation;
  }

  private chunk(delta: Record<string, unknown>, finishReason: string | null = null): string {
    return this.chunkOf(JSON.stringify(delta), finishReason);
  }

  /** A chunk whose delta is the JSON text `delta`. */
  private chunkOf(delta: string, finishReason: string | null = null): string {
    // Content before message_start: not a Messages stream.
    return this.chunks.started ? this.chunks.chunk(delta, finishReason) : this.malformed();
  }

  private errorEvent(error: Record<string, unknown>, code?: string): string {
    this.failed = true;
    this.pending = '';
    const meaning = anthropicErrorMeaning(error.type);
    const message = typeof error.message === 'string' && error.message !== '' ? error.message : `The backend sent a ${String(error.type)} error.`;
    return `data: ${JSON.stringify({ error: { message, type: meaning.type, param: null, code: code ?? meaning.code } })}\n\n`;
  }

  private malformed(): string {
    return this.errorEvent({ type: 'api_error', message: 'The backend sent a malformed Messages stream event.' }, 'upstream_malformed_response');
  }
}

/** An event's data: its `data:` lines joined (SSE allows several); undefined when it has none. */
function dataOf(event: string): string | undefined {
  // Almost every event is `event: <type>` and one `data:` line: read that line without splitting.
  const line = event.startsWith('data:') ? 0 : event.indexOf('\ndata:') + 1;
  if (line > 0 || event.startsWith('data:')) {
    if (event.indexOf('\n', line) === -1) return event.slice(line + (event.charCodeAt(line + 5) === 0x20 ? 6 : 5));
  }
  let data: string | undefined;
  for (const line of event.split('\n')) {
    if (!line.startsWith('data:')) continue;
    const value = line.slice(line.charCodeAt(5) === 0x20 ? 6 : 5);
    data = data === undefined ? value : `${data}\n${value}`;
  }
  return data;
}
