import { isNonEmptyArray, isRecord } from '../../json.js';
import { estimateTokens } from './estimate-tokens.js';

/** A part of multimodal content: `text` parts are read; image, audio and file parts are ignored. */
export interface ClassifierContentPart {
  readonly type?: string;
  readonly text?: string;
}

export interface ClassifierMessage {
  readonly role?: string;
  readonly content?: string | readonly ClassifierContentPart[] | null;
  /** Assistant tool calls: their `function.arguments` count towards the prompt size. */
  readonly tool_calls?: readonly unknown[];
}

/**
 * The parsed body of a chat completion request, as far as the classifier reads it; other fields are ignored. Bodies
 * arrive as untrusted JSON, so every field is read defensively: anything that is not of this shape counts as
 * absent, never as an error. No index signatures, so that a gateway's own request interface is assignable.
 */
export interface ClassifierInput {
  readonly messages?: readonly ClassifierMessage[];
  readonly tools?: readonly unknown[];
  readonly tool_choice?: unknown;
  /** The deprecated form of `tools`, still sent by older clients. */
  readonly functions?: readonly unknown[];
  readonly function_call?: unknown;
  readonly response_format?: { readonly type?: string } | null;
}

/**
 * Tokens counted per message on top of its text, for the role and the separators chat templates add. Default 4,
 * roughly what OpenAI's chat format costs.
 */
export const MESSAGE_OVERHEAD_TOKENS = 4;

/** What the classifier reads from the messages, in one pass over them. */
export interface PromptText {
  /**
   * The text of the last message with role `user`: the request the client is making now. The system prompt is never
   * scored: it is the same long text on every turn of an application, and would make "thanks!" look complex.
   */
  readonly lastUserText: string;
  /** Its estimated size (estimate-tokens.ts), without the per-message overhead. */
  readonly lastUserTokens: number;
  /** The estimated size of the whole prompt: every message's text and tool-call arguments, plus the overhead. */
  readonly promptTokens: number;
}

export function readPrompt(input: unknown): PromptText {
  const messages = messagesOf(input);
  let lastUserIndex = -1;
  for (let index = messages.length - 1; index >= 0 && lastUserIndex < 0; index -= 1) {
    const message = messages[index];
    if (isRecord(message) && message.role === 'user') lastUserIndex = index;
  }
  let lastUserText = '';
  let lastUserTokens = 0;
  let promptTokens = 0;
  messages.forEach((message, index) => {
    if (!isRecord(message)) return;
    const text = textOf(message.content);
    const tokens = estimateTokens(text);
    if (index === lastUserIndex) {
      lastUserText = text;
      lastUserTokens = tokens;
    }
    promptTokens += MESSAGE_OVERHEAD_TOKENS + tokens + toolCallTokens(message.tool_calls);
  });
  return { lastUserText, lastUserTokens, promptTokens };
}

/** `readPrompt(input).promptTokens`: for callers that need the size without classifying. */
export function estimatePromptTokens(input: unknown): number {
  return readPrompt(input).promptTokens;
}

function toolCallTokens(toolCalls: unknown): number {
  if (!Array.isArray(toolCalls)) return 0;
  let tokens = 0;
  for (const call of toolCalls as unknown[]) {
    const argumentsText = isRecord(call) && isRecord(call.function) ? call.function.arguments : undefined;
    if (typeof argumentsText === 'string') tokens += estimateTokens(argumentsText);
  }
  return tokens;
}

/**
 * Whether the model may call tools: tools (or legacy functions) are offered and `tool_choice` (or `function_call`)
 * is not "none". With "none" the model must answer in text, so it needs no agent-capable model.
 */
export function offersTools(input: unknown): boolean {
  if (!isRecord(input)) return false;
  const tools = isNonEmptyArray(input.tools) && input.tool_choice !== 'none';
  const functions = isNonEmptyArray(input.functions) && input.function_call !== 'none';
  return tools || functions;
}

/** Whether `response_format` asks for JSON: `json_object` or `json_schema`. */
export function wantsStructuredOutput(input: unknown): boolean {
  if (!isRecord(input) || !isRecord(input.response_format)) return false;
  const { type } = input.response_format;
  return type === 'json_object' || type === 'json_schema';
}

function messagesOf(input: unknown): readonly unknown[] {
  return isRecord(input) && Array.isArray(input.messages) ? (input.messages as unknown[]) : [];
}

/** A string content as is; the text parts of an array joined by newlines; anything else empty. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const part of content as unknown[]) {
    const partText = typeof part === 'string' ? part : isRecord(part) && isTextType(part.type) ? part.text : undefined;
    if (typeof partText !== 'string') continue;
    text = text === '' ? partText : `${text}\n${partText}`;
  }
  return text;
}

function isTextType(type: unknown): boolean {
  return type === 'text' || type === 'input_text';
}
