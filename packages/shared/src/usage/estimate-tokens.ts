import { createRequire } from 'node:module';
import type * as O200kBase from 'gpt-tokenizer/encoding/o200k_base';
import { isRecord } from '../json.js';
import { flattened } from '../flat-string.js';

/**
 * Token counts with a real BPE tokenizer (gpt-tokenizer's `o200k_base`, the encoding of GPT-4o, GPT-4.1, GPT-5 and
 * the o-series), for the usage record of a request whose backend reported no `usage`. Other model families use other
 * tokenizers, so for them the count is an estimate, but a far closer one than a characters-per-token rule.
 *
 * Loading: the encoding is a 2.4 MB JavaScript module of merge ranks. Measured on this project's machine (Node 20.20,
 * 2 cores), loading it costs 150–165 ms of blocked event loop, +14.5 MB of V8 heap and +50–55 MB of RSS (an ESM
 * `import()` of the same file: 154 ms and +20 MB of heap, so asynchronous loading saves nothing: parsing and
 * evaluating are synchronous either way); the first count then takes another 16–20 ms, later ones about 5 ms per
 * 90,000 characters of English. That is too much for every process that imports `@dosrouter/shared` (the prober, the
 * simulator, the CLI scripts) to pay at startup, so the encoding is loaded on first use, synchronously through
 * `require` (the package ships CommonJS beside its ESM build), which keeps every count below synchronous. A server
 * that will count tokens can call `loadTokenizer()` while it starts, so that no request pays the load.
 *
 * Text is counted as text: a special-token string such as `<|endoftext|>` in a message is counted as the ordinary
 * tokens it is made of (7), as OpenAI's API encodes user content, instead of throwing as gpt-tokenizer does by default.
 */

/** The operations whose requests and answers carry text to count. */
export type TokenCountedOperation = 'chat/completions' | 'completions' | 'embeddings';

/**
 * Tokens counted per chat message on top of its text: OpenAI's cookbook convention ("How to count tokens with
 * tiktoken") for every chat model since gpt-3.5-turbo-0613, the `<|start|>`, role separator and `<|end|>` tokens.
 */
export const CHAT_MESSAGE_TOKENS = 3;
/** Tokens counted once per chat request for the `<|start|>assistant<|message|>` that primes the reply (same source). */
export const REPLY_PRIMING_TOKENS = 3;
/** Tokens counted on top of a message's `name` text (same source). */
export const MESSAGE_NAME_TOKENS = 1;
/**
 * Tokens counted for each image part of a prompt, whose pixels are not fetched or measured: OpenAI's charge for an
 * image at `detail: "low"` on GPT-4o (85). High-detail images cost more (170 per 512-pixel tile), so this is a floor.
 */
export const IMAGE_PART_TOKENS = 85;

type Encoding = Pick<typeof O200kBase, 'countTokens'>;

const requireFromHere = createRequire(import.meta.url);
let encoding: Encoding | undefined;

/** Options that count special-token strings as plain text. Built once: counting allocates no options object. */
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/**
 * Loads the `o200k_base` encoding now, if it is not loaded yet (150–165 ms, see above). Optional: the first count
 * loads it anyway; a server calls this while it starts so that no request waits for it.
 */
export function loadTokenizer(): void {
  loadedEncoding();
}

function loadedEncoding(): Encoding {
  return (encoding ??= requireFromHere('gpt-tokenizer/encoding/o200k_base') as Encoding);
}

/**
 * Text is counted in pieces of at most this many characters, cut at whitespace where there is some: the BPE's cost
 * grows with the square of a run without breaks (100,000 × "a" took 6.5 s in one piece), and a client chooses what
 * it sends. Cutting a run costs at most a token or two per cut.
 */
const PIECE_CHARACTERS = 256;
/**
 * Characters one estimate (a request's prompt, or an answer) tokenizes at most; the rest is counted at the rate
 * measured on what was. Tokenizing runs at about 1 µs per character on random ASCII, up to 2.7 µs on random CJK
 * (measured by the second review), and 0.03 µs on prose: 8 K characters bound an estimate to about 22 ms.
 */
const MAX_TOKENIZED_CHARACTERS = 8 * 1024;
/** Tokens per character assumed before any text was tokenized. */
const DEFAULT_TOKENS_PER_CHARACTER = 0.25;

/** What the estimate under way has tokenized so far; undefined outside one (a lone countTextTokens call). */
let estimate: { remaining: number; tokens: number; characters: number } | undefined;

/** Runs one estimate with its own budget of characters to tokenize. */
function bounded<T>(run: () => T): T {
  const outer = estimate;
  estimate = { remaining: MAX_TOKENIZED_CHARACTERS, tokens: 0, characters: 0 };
  try {
    return run();
  } finally {
    estimate = outer;
  }
}

/**
 * The number of `o200k_base` tokens in `text`, special-token strings counted as plain text. Within an estimate,
 * text past its budget is not tokenized but scaled; a lone call has a budget of its own.
 */
export function countTextTokens(text: string): number {
  if (text.length === 0) return 0;
  if (!estimate) return bounded(() => countTextTokens(text));
  const budget = estimate;
  const counted = text.length <= budget.remaining ? text : text.slice(0, Math.max(0, budget.remaining));
  const tokens = counted.length === 0 ? 0 : tokenizeInPieces(counted);
  budget.remaining -= counted.length;
  budget.tokens += tokens;
  budget.characters += counted.length;
  if (counted.length === text.length) return tokens;
  const rate = budget.characters > 0 ? budget.tokens / budget.characters : DEFAULT_TOKENS_PER_CHARACTER;
  return tokens + Math.round((text.length - counted.length) * rate);
}

function tokenizeInPieces(text: string): number {
  const counter = encoding ?? loadedEncoding();
  if (text.length <= PIECE_CHARACTERS) return counter.countTokens(text, PLAIN_TEXT);
  let tokens = 0;
  for (let start = 0; start < text.length; ) {
    let stop = Math.min(start + PIECE_CHARACTERS, text.length);
    if (stop < text.length) {
      // Cut after the last space of the piece, so that words stay whole when there are words.
      const space = text.lastIndexOf(' ', stop);
      if (space > start) stop = space + 1;
    }
    tokens += counter.countTokens(text.slice(start, stop), PLAIN_TEXT);
    start = stop;
  }
  return tokens;
}

/**
 * The prompt tokens of a request body, as parsed JSON read defensively (a field of another shape counts as absent):
 * - chat/completions: per message, {@link CHAT_MESSAGE_TOKENS} plus its role, its text content (a string, or the
 *   `text` and `refusal` of its content parts; {@link IMAGE_PART_TOKENS} per `image_url` part; audio and file parts
 *   count nothing), its `refusal`, the names and arguments of an assistant's `tool_calls` (and of the legacy
 *   `function_call`), and its `name` plus {@link MESSAGE_NAME_TOKENS}; a tool message counts like any other, by its
 *   content (its `tool_call_id` is not counted); then the JSON of `tools` (and of the legacy `functions`), plus
 *   {@link REPLY_PRIMING_TOKENS}. OpenAI renders tool definitions in its own format, so that part is approximate.
 * - completions: `prompt` (a string, an array of strings, a token array or an array of token arrays) and `suffix`.
 * - embeddings: `input`, of the same shapes; a token array counts its length.
 */
export function estimatePromptTokens(operation: TokenCountedOperation, body: Record<string, unknown>): number {
  return bounded(() => promptTokensOf(operation, body));
}

function promptTokensOf(operation: TokenCountedOperation, body: Record<string, unknown>): number {
  switch (operation) {
    case 'chat/completions':
      return chatPromptTokens(body);
    case 'completions':
      return inputTokens(body.prompt) + stringTokens(body.suffix);
    case 'embeddings':
      return inputTokens(body.input);
  }
}

/**
 * The completion tokens of a non-streaming answer body: for each choice, a chat `message`'s content, refusal,
 * reasoning (`reasoning_content` or `reasoning`: providers send one or the other, some both with the same text, so
 * only the longer one counts) and tool calls' names and arguments, or a completion's `text`.
 */
export function estimateCompletionTokens(answer: unknown): number {
  return bounded(() => completionTokensOf(answer));
}

function completionTokensOf(answer: unknown): number {
  if (!isRecord(answer) || !Array.isArray(answer.choices)) return 0;
  let tokens = 0;
  for (const choice of answer.choices as readonly unknown[]) {
    if (!isRecord(choice)) continue;
    tokens += stringTokens(choice.text);
    const message = choice.message;
    if (!isRecord(message)) continue;
    tokens +=
      contentTokens(message.content, 0) +
      stringTokens(message.refusal) +
      reasoningTokens(message.reasoning_content, message.reasoning) +
      toolCallsTokens(message.tool_calls) +
      functionCallTokens(message.function_call);
  }
  return tokens;
}

/**
 * The completion tokens of a streamed answer, from the JSON `data` of each of its SSE events (`[DONE]` and any other
 * event that does not parse as JSON is skipped). Each choice's deltas are put back together field by field (content,
 * refusal, reasoning, each tool call's name and arguments by its `index`, or a completion's `text`) and counted as
 * {@link estimateCompletionTokens} counts the same answer unstreamed, so the two agree.
 */
export function estimateStreamCompletionTokens(events: readonly string[]): number {
  const counter = new StreamCompletionCounter();
  for (const event of events) counter.add(event);
  return counter.tokens();
}

/**
 * {@link estimateStreamCompletionTokens} fed one event at a time, as a stream passes: it keeps the text of each
 * choice's fields (not the events), and counts it when asked. What it holds grows with the text it was given: a
 * caller that must stay bounded feeds it a sample (the gateway's relay feeds the first few kilobytes of a stream).
 */
export class StreamCompletionCounter {
  private readonly choices = new Map<number, StreamedChoice>();

  /** One event's JSON data; anything that is not a chunk object is skipped. */
  add(event: string): void {
    let chunk: unknown;
    try {
      chunk = JSON.parse(event);
    } catch {
      return;
    }
    if (!isRecord(chunk) || !Array.isArray(chunk.choices)) return;
    const deltas = chunk.choices as readonly unknown[];
    for (let position = 0; position < deltas.length; position += 1) {
      const choice = deltas[position];
      if (!isRecord(choice)) continue;
      const index = typeof choice.index === 'number' ? choice.index : position;
      let streamed = this.choices.get(index);
      if (streamed === undefined) {
        streamed = new StreamedChoice();
        this.choices.set(index, streamed);
      }
      streamed.add(choice);
    }
  }

  /**
   * Makes the text kept so far flat strings. Appended to piece by piece, each field is a tree of its pieces (32 bytes a
   * join, and each piece a string of its own) until something reads it whole: a caller that keeps a counter for a
   * long time calls this now and then.
   */
  compact(): void {
    for (const streamed of this.choices.values()) streamed.compact();
  }

  /** The tokens of the text given so far (one estimate, with its own tokenizing budget). */
  tokens(): number {
    return bounded(() => {
      let tokens = 0;
      for (const streamed of this.choices.values()) tokens += streamed.tokens();
      return tokens;
    });
  }
}

/** The text of one streamed choice so far. */
class StreamedChoice {
  private text = '';
  private content = '';
  private refusal = '';
  private reasoningContent = '';
  private reasoning = '';
  private readonly functionCall = new StreamedCall();
  private toolCalls: Map<number, StreamedCall> | undefined;

  add(choice: Record<string, unknown>): void {
    if (typeof choice.text === 'string') this.text += choice.text;
    const delta = choice.delta;
    if (!isRecord(delta)) return;
    if (typeof delta.content === 'string') this.content += delta.content;
    if (typeof delta.refusal === 'string') this.refusal += delta.refusal;
    if (typeof delta.reasoning_content === 'string') this.reasoningContent += delta.reasoning_content;
    if (typeof delta.reasoning === 'string') this.reasoning += delta.reasoning;
    if (isRecord(delta.function_call)) this.functionCall.add(delta.function_call);
    if (Array.isArray(delta.tool_calls)) this.addToolCalls(delta.tool_calls as readonly unknown[]);
  }

  compact(): void {
    flattened(this.text);
    flattened(this.content);
    flattened(this.refusal);
    flattened(this.reasoningContent);
    flattened(this.reasoning);
    this.functionCall.compact();
    if (this.toolCalls !== undefined) for (const call of this.toolCalls.values()) call.compact();
  }

  private addToolCalls(calls: readonly unknown[]): void {
    for (let position = 0; position < calls.length; position += 1) {
      const call = calls[position];
      if (!isRecord(call) || !isRecord(call.function)) continue;
      const index = typeof call.index === 'number' ? call.index : position;
      this.toolCalls ??= new Map();
      let streamed = this.toolCalls.get(index);
      if (streamed === undefined) {
        streamed = new StreamedCall();
        this.toolCalls.set(index, streamed);
      }
      streamed.add(call.function);
    }
  }

  tokens(): number {
    let tokens =
      countTextTokens(this.text) +
      countTextTokens(this.content) +
      countTextTokens(this.refusal) +
      reasoningTokens(this.reasoningContent, this.reasoning) +
      this.functionCall.tokens();
    if (this.toolCalls !== undefined) for (const call of this.toolCalls.values()) tokens += call.tokens();
    return tokens;
  }
}

/** The name and arguments of one streamed tool call (or legacy function call) so far. */
class StreamedCall {
  private name = '';
  private argumentsText = '';

  add(fn: Record<string, unknown>): void {
    if (typeof fn.name === 'string') this.name += fn.name;
    if (typeof fn.arguments === 'string') this.argumentsText += fn.arguments;
  }

  compact(): void {
    flattened(this.name);
    flattened(this.argumentsText);
  }

  tokens(): number {
    return countTextTokens(this.name) + countTextTokens(this.argumentsText);
  }
}

function chatPromptTokens(body: Record<string, unknown>): number {
  let tokens = REPLY_PRIMING_TOKENS + jsonTokens(body.tools) + jsonTokens(body.functions);
  if (Array.isArray(body.messages)) {
    for (const message of body.messages as readonly unknown[]) if (isRecord(message)) tokens += messageTokens(message);
  }
  return tokens;
}

function messageTokens(message: Record<string, unknown>): number {
  let tokens =
    CHAT_MESSAGE_TOKENS +
    stringTokens(message.role) +
    contentTokens(message.content, IMAGE_PART_TOKENS) +
    stringTokens(message.refusal) +
    toolCallsTokens(message.tool_calls) +
    functionCallTokens(message.function_call);
  if (typeof message.name === 'string') tokens += MESSAGE_NAME_TOKENS + countTextTokens(message.name);
  return tokens;
}

/** A string's tokens; anything else counts 0. */
function stringTokens(value: unknown): number {
  return typeof value === 'string' ? countTextTokens(value) : 0;
}

/** Message content: a string, or parts whose `text` (or `refusal`) counts and of which each image counts `perImage`. */
function contentTokens(content: unknown, perImage: number): number {
  if (typeof content === 'string') return countTextTokens(content);
  if (!Array.isArray(content)) return 0;
  let tokens = 0;
  for (const part of content as readonly unknown[]) {
    if (!isRecord(part)) continue;
    if (part.type === 'image_url') tokens += perImage;
    else tokens += stringTokens(part.text) + stringTokens(part.refusal);
  }
  return tokens;
}

/** The longer of `reasoning_content` and `reasoning`, counted once: providers use either name for the same text. */
function reasoningTokens(reasoningContent: unknown, reasoning: unknown): number {
  const first = typeof reasoningContent === 'string' ? reasoningContent : '';
  const second = typeof reasoning === 'string' ? reasoning : '';
  return countTextTokens(second.length > first.length ? second : first);
}

function toolCallsTokens(calls: unknown): number {
  if (!Array.isArray(calls)) return 0;
  let tokens = 0;
  for (const call of calls as readonly unknown[]) if (isRecord(call)) tokens += functionCallTokens(call.function);
  return tokens;
}

/** A `{ name, arguments }` object: a tool call's `function`, or the legacy `function_call`. */
function functionCallTokens(fn: unknown): number {
  return isRecord(fn) ? stringTokens(fn.name) + stringTokens(fn.arguments) : 0;
}

/** The JSON of a non-empty array (tool definitions); anything else counts 0. */
function jsonTokens(value: unknown): number {
  return Array.isArray(value) && value.length > 0 ? countTextTokens(JSON.stringify(value)) : 0;
}

/**
 * A completions `prompt` or an embeddings `input`: a string, an array of strings, a token array (its length) or an
 * array of token arrays (their lengths).
 */
function inputTokens(input: unknown): number {
  if (typeof input === 'string') return countTextTokens(input);
  if (!Array.isArray(input)) return 0;
  let tokens = 0;
  for (const item of input as readonly unknown[]) {
    if (typeof item === 'string') tokens += countTextTokens(item);
    else if (typeof item === 'number') tokens += 1;
    else if (Array.isArray(item)) tokens += tokenArrayLength(item as readonly unknown[]);
  }
  return tokens;
}

function tokenArrayLength(tokens: readonly unknown[]): number {
  let length = 0;
  for (const token of tokens) if (typeof token === 'number') length += 1;
  return length;
}
