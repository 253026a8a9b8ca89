import { isRecord } from '@dosrouter/shared';
import { geminiErrorMeaning } from './gemini-error-meaning.js';
import type { GeminiPart, GeminiUsageMetadata } from './gemini-types.js';
import { argumentsText, geminiChatUsage, geminiFinishReason, toolCallId } from './openai-to-gemini-answer.js';
import { SseCutter, forEachEvent, parseSseEvent } from './sse-events.js';

/**
 * The largest Gemini event kept while its end has not arrived. An event is one chunk of the answer (a few words, or
 * one whole function call); a stream that sends more without a boundary is not one.
 */
const MAX_EVENT_BYTES = 4 * 1024 * 1024;

export interface GeminiChatStreamOptions {
  /** `created` of every chunk, in seconds. */
  readonly created: number;
  /** End with a usage chunk (`choices: []`): the client asked for one, or the gateway did (and drops it). */
  readonly includeUsage: boolean;
  /** The chunks' `id` when Gemini gives no responseId, and their `model` when it gives no modelVersion. */
  readonly id: string;
  readonly model: string;
  /** The prefix of the ids made for function calls that come without one. */
  readonly callIdPrefix: string;
}

/** What is known of one candidate (one choice) while its stream runs. */
interface CandidateState {
  toolCalls: number;
  finished: boolean;
}

/**
 * A Gemini `streamGenerateContent?alt=sse` stream → a Chat Completions chunk stream, event by event as the bytes
 * arrive. Every event is a whole GenerateContentResponse holding the next piece of each candidate. It keeps only the
 * event being cut, the last usageMetadata (cumulative: the last event's is the answer's) and, per candidate, how many
 * tool calls it made and whether it finished: memory does not grow with the answer.
 *
 * A candidate's first piece → the role chunk; text → `content`; thought text → `reasoning_content`; a functionCall
 * (Gemini sends each whole) → one tool call chunk with its id, name and every argument; a finishReason → the
 * candidate's finish chunk. Gemini sends no closing event: when the backend's stream ends with every candidate
 * finished, `end()` writes the usage chunk when asked for (and reported) and `[DONE]`; a stream that ends before gets neither, and
 * the relay reports it as interrupted. An `error` object → an OpenAI-shaped error event.
 */
export class GeminiToChatStream {
  usage: GeminiUsageMetadata | undefined;
  /** An error arrived, or an event that is not Gemini's JSON. */
  failed = false;
  private prefix = '';
  private readonly cutter = new SseCutter();
  private pendingBytes = 0;
  private readonly candidates = new Map<number, CandidateState>();

  constructor(private readonly options: GeminiChatStreamOptions) {}

  /** Feeds Gemini bytes; returns the Chat Completions events they complete ('' when none). */
  push(chunk: Buffer): string {
    if (this.failed) return '';
    const events = this.cutter.cut(chunk);
    if (events === '') {
      this.pendingBytes += chunk.length;
      return this.pendingBytes > MAX_EVENT_BYTES ? this.malformed() : '';
    }
    this.pendingBytes = 0;
    let out = '';
    forEachEvent(events, (event) => {
      out += this.translate(event);
      return !this.failed;
    });
    return out;
  }

  end(): string {
    if (this.failed || this.candidates.size === 0) return '';
    for (const candidate of this.candidates.values()) if (!candidate.finished) return '';
    // A stream that reported no usageMetadata gets no usage chunk: the gateway then estimates its tokens.
    const usage = this.options.includeUsage && this.usage !== undefined ? `data: ${this.prefix}[],"usage":${JSON.stringify(geminiChatUsage(this.usage))}}\n\n` : '';
    return `${usage}data: [DONE]\n\n`;
  }

  private translate(event: string): string {
    const { data } = parseSseEvent(event);
    if (data === undefined || data === '') return '';
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return this.malformed();
    }
    if (!isRecord(parsed)) return this.malformed();
    if (isRecord(parsed.error)) return this.errorEvent(parsed.error);
    if (this.prefix === '') {
      const id = typeof parsed.responseId === 'string' ? `chatcmpl-${parsed.responseId}` : this.options.id;
      const model = typeof parsed.modelVersion === 'string' ? parsed.modelVersion : this.options.model;
      this.prefix = `{"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${this.options.created},"model":${JSON.stringify(model)},"choices":`;
    }
    if (isRecord(parsed.usageMetadata)) this.usage = parsed.usageMetadata as GeminiUsageMetadata;
    let out = '';
    const candidates = Array.isArray(parsed.candidates) ? parsed.candidates : [];
    candidates.forEach((candidate: unknown, position) => {
      if (isRecord(candidate)) out += this.candidateChunks(candidate, position);
    });
    if (candidates.length === 0 && isRecord(parsed.promptFeedback) && typeof parsed.promptFeedback.blockReason === 'string') {
      // The prompt was blocked: one choice, no content, finished by the content filter.
      out += this.stateOf(0).chunk + this.chunk(0, {}, 'content_filter');
      this.candidates.get(0)!.finished = true;
    }
    return out;
  }

  /** A candidate's role chunk (the first time), then a chunk per part, then its finish chunk if it finished. */
  private candidateChunks(candidate: Record<string, unknown>, position: number): string {
    const index = typeof candidate.index === 'number' ? candidate.index : position;
    const { state, chunk: opening } = this.stateOf(index);
    let out = opening;
    const content = isRecord(candidate.content) ? candidate.content : {};
    const parts = Array.isArray(content.parts) ? (content.parts as GeminiPart[]) : [];
    for (const part of parts) {
      if (!isRecord(part)) continue;
      if (typeof part.text === 'string') {
        if (part.text !== '') out += this.chunk(index, part.thought === true ? { reasoning_content: part.text } : { content: part.text });
      } else if (isRecord(part.functionCall)) {
        const call = state.toolCalls;
        state.toolCalls += 1;
        const id = toolCallId(this.options.callIdPrefix, index, call, part.functionCall.id);
        const name = String(part.functionCall.name);
        out += this.chunk(index, { tool_calls: [{ index: call, id, type: 'function', function: { name, arguments: argumentsText(part.functionCall.args) } }] });
      }
    }
    if (typeof candidate.finishReason === 'string' && !state.finished) {
      state.finished = true;
      out += this.chunk(index, {}, geminiFinishReason(candidate.finishReason, state.toolCalls > 0));
    }
    return out;
  }

  /** The state of candidate `index`, and its role chunk when this is its first piece ('' otherwise). */
  private stateOf(index: number): { state: CandidateState; chunk: string } {
    const known = this.candidates.get(index);
    if (known) return { state: known, chunk: '' };
    const state: CandidateState = { toolCalls: 0, finished: false };
    this.candidates.set(index, state);
    return { state, chunk: this.chunk(index, { role: 'assistant', content: '' }) };
  }

  private chunk(index: number, delta: Record<string, unknown>, finishReason: string | null = null): string {
    return `data: ${this.prefix}[{"index":${index},"delta":${JSON.stringify(delta)},"logprobs":null,"finish_reason":${finishReason === null ? 'null' : `"${finishReason}"`}}]}\n\n`;
  }

  private errorEvent(error: Record<string, unknown>, code?: string): string {
    this.failed = true;
    const meaning = geminiErrorMeaning(error.status);
    const message = typeof error.message === 'string' && error.message !== '' ? error.message : `The backend sent a ${String(error.status)} error.`;
    return `data: ${JSON.stringify({ error: { message, type: meaning.type, param: null, code: code ?? meaning.code } })}\n\n`;
  }

  private malformed(): string {
    return this.errorEvent({ status: 'INTERNAL', message: 'The backend sent a malformed Gemini stream event.' }, 'upstream_malformed_response');
  }
}
