import { isRecord } from '@dosrouter/shared';
import type {
  ContentBlock,
  ContentBlockParam,
  DocumentBlockParam,
  ImageBlockParam,
  Message,
  MessageCreateParams,
  MessageParam,
  StopReason,
  Tool,
  ToolChoice,
  ToolResultBlockParam,
  Usage,
} from './anthropic-types.js';

/** What names an answer the backend left unnamed: the gateway's request id. */
export interface AnswerNames {
  /** The model the client asked for, when the backend's answer names none. */
  readonly model: string;
  readonly requestId: string;
}

/**
 * Anthropic Messages in, OpenAI Chat Completions out, and the answer back: pure functions over validated bodies
 * (validation/messages-request.ts). What cannot be said in Chat Completions is dropped, as docs/protocols.md lists:
 * `cache_control`, thinking settings and thinking blocks of earlier turns, `top_k`, server tools, citations.
 */

type ChatPart = Record<string, unknown>;
type ChatMessage = Record<string, unknown>;

/** The Chat Completions body for a Messages request (the model is the client's; each attempt sets its deployment's). */
export function messagesToChat(request: MessageCreateParams): Record<string, unknown> {
  const messages: ChatMessage[] = [];
  const system = systemText(request.system);
  if (system !== undefined) messages.push({ role: 'system', content: system });
  for (const message of request.messages) messages.push(...chatMessagesOf(message));
  const tools = (request.tools ?? []).filter(isClientTool).map(chatTool);
  const chat: Record<string, unknown> = { model: request.model, messages, max_tokens: request.max_tokens };
  if (request.stream === true) chat.stream = true;
  if (request.stop_sequences !== undefined && request.stop_sequences.length > 0) chat.stop = request.stop_sequences;
  if (request.temperature !== undefined) chat.temperature = request.temperature;
  if (request.top_p !== undefined) chat.top_p = request.top_p;
  const user = request.metadata?.user_id;
  if (typeof user === 'string' && user !== '') chat.user = user;
  if (tools.length > 0) {
    chat.tools = tools;
    const choice = request.tool_choice;
    if (choice !== undefined) chat.tool_choice = chatToolChoice(choice);
    if (choice !== undefined && choice.type !== 'none' && choice.disable_parallel_tool_use === true) chat.parallel_tool_calls = false;
  }
  return chat;
}

function systemText(system: MessageCreateParams['system']): string | undefined {
  if (system === undefined) return undefined;
  if (typeof system === 'string') return system === '' ? undefined : system;
  const text = system.map((block) => block.text).join('\n');
  return text === '' ? undefined : text;
}

/**
 * One Messages turn as Chat messages. A user turn's `tool_result` blocks become `tool` messages placed first (Chat
 * wants them right after the assistant's tool calls), the rest of the turn a user message after them; a tool
 * result's images, which a `tool` message cannot hold, join that user message.
 */
function chatMessagesOf(message: MessageParam): ChatMessage[] {
  if (typeof message.content === 'string') return [{ role: message.role, content: message.content }];
  if (message.role === 'assistant') return [assistantMessage(message.content)];
  const toolMessages: ChatMessage[] = [];
  const parts: ChatPart[] = [];
  for (const block of message.content) {
    if (block.type === 'tool_result') {
      const result = toolResult(block);
      toolMessages.push(result.message);
      parts.push(...result.media);
    } else {
      parts.push(...userParts(block));
    }
  }
  if (parts.length === 0) return toolMessages;
  const onlyText = parts.every((part) => part.type === 'text');
  const content = onlyText ? parts.map((part) => part.text as string).join('\n') : parts;
  return [...toolMessages, { role: 'user', content }];
}

function assistantMessage(blocks: readonly ContentBlockParam[]): ChatMessage {
  const texts: string[] = [];
  const toolCalls: Record<string, unknown>[] = [];
  for (const block of blocks) {
    if (block.type === 'text') texts.push(block.text);
    else if (block.type === 'tool_use') {
      toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
    }
    // Thinking blocks of earlier turns have no place in a Chat request: providers want their reasoning left out.
  }
  const message: ChatMessage = { role: 'assistant', content: texts.length > 0 ? texts.join('') : null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return message;
}

/** A user block as Chat content parts (text, image_url, file). */
function userParts(block: ContentBlockParam): ChatPart[] {
  switch (block.type) {
    case 'text':
      return [{ type: 'text', text: block.text }];
    case 'image':
      return [imagePart(block)];
    case 'document':
      return documentParts(block);
    default:
      // tool_use, thinking and redacted_thinking belong to assistant turns; validation refuses them in user turns.
      return [];
  }
}

function imagePart(block: ImageBlockParam): ChatPart {
  const { source } = block;
  if (source.type === 'base64') return { type: 'image_url', image_url: { url: `data:${source.media_type};base64,${source.data}` } };
  if (source.type === 'url') return { type: 'image_url', image_url: { url: source.url } };
  return { type: 'file', file: { file_id: source.file_id } };
}

/** A PDF becomes a `file` part; a text or content document its text, headed by its title and context when given. */
function documentParts(block: DocumentBlockParam): ChatPart[] {
  const { source } = block;
  const heading = [block.title, block.context].filter((line): line is string => typeof line === 'string' && line !== '');
  const withHeading = (text: string): ChatPart[] => [{ type: 'text', text: [...heading, text].join('\n') }];
  switch (source.type) {
    case 'base64':
      return [{ type: 'file', file: { filename: block.title ?? 'document.pdf', file_data: `data:${source.media_type};base64,${source.data}` } }];
    case 'text':
      return withHeading(source.data);
    case 'content':
      if (typeof source.content === 'string') return withHeading(source.content);
      return source.content.flatMap((part) => (part.type === 'text' ? withHeading(part.text) : [imagePart(part)]));
    case 'url':
      // Chat Completions has no document URL: the model is told where the document is.
      return withHeading(`Document: ${source.url}`);
    case 'file':
      return [{ type: 'file', file: { file_id: source.file_id } }];
  }
}

/** A tool result as a `tool` message (text only, an error marked as such) and the images it carried. */
function toolResult(block: ToolResultBlockParam): { message: ChatMessage; media: ChatPart[] } {
  const texts: string[] = [];
  const media: ChatPart[] = [];
  if (typeof block.content === 'string') texts.push(block.content);
  else {
    for (const part of block.content ?? []) {
      if (part.type === 'text') texts.push(part.text);
      else if (part.type === 'image') media.push(imagePart(part));
      else media.push(...documentParts(part));
    }
  }
  const text = texts.join('\n');
  return { message: { role: 'tool', tool_call_id: block.tool_use_id, content: block.is_error === true ? `Error: ${text}` : text }, media };
}

/** A client tool: a name and an input schema. Anthropic's server tools (web search, bash, …) have no Chat equivalent. */
function isClientTool(tool: Tool): boolean {
  return isRecord(tool.input_schema) && (tool.type === undefined || tool.type === null || tool.type === 'custom');
}

function chatTool(tool: Tool): Record<string, unknown> {
  return {
    type: 'function',
    function: { name: tool.name, ...(tool.description === undefined ? {} : { description: tool.description }), parameters: tool.input_schema },
  };
}

function chatToolChoice(choice: ToolChoice): unknown {
  switch (choice.type) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      return { type: 'function', function: { name: choice.name } };
  }
}

// ── The answer ──────────────────────────────────────────────────────────────────────────────────────────────────────

/** A Chat Completions `finish_reason` as a Messages `stop_reason`. */
export function stopReasonOf(finishReason: unknown): StopReason | null {
  switch (finishReason) {
    case 'stop':
      return 'end_turn';
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    case null:
    case undefined:
      return null;
    default:
      return 'end_turn';
  }
}

/**
 * Chat usage as Messages usage: Anthropic counts cache reads apart from `input_tokens`, so OpenAI's
 * `prompt_tokens_details.cached_tokens` moves from one to the other. Chat reports no cache writes.
 */
export function messagesUsageOf(usage: unknown): Usage {
  const record = isRecord(usage) ? usage : {};
  const prompt = count(record.prompt_tokens);
  const details = isRecord(record.prompt_tokens_details) ? record.prompt_tokens_details : {};
  const cached = Math.min(prompt, count(details.cached_tokens));
  return { input_tokens: prompt - cached, output_tokens: count(record.completion_tokens), cache_creation_input_tokens: 0, cache_read_input_tokens: cached };
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}

/** A Messages id for a Chat completion id: `msg_` and the completion's id (else the request's), so logs can join them. */
export function messageIdOf(completionId: unknown, names: AnswerNames): string {
  return `msg_${typeof completionId === 'string' && completionId !== '' ? completionId.replace(/^chatcmpl-/, '') : names.requestId}`;
}

/**
 * A whole Chat completion as a Message: the first choice's reasoning as a thinking block (without a signature, which
 * only Anthropic can make), its text, its refusal as text, and its tool calls as tool_use blocks with their ids.
 */
export function chatToMessage(completion: unknown, names: AnswerNames): Message {
  const answer = isRecord(completion) ? completion : {};
  const choice = Array.isArray(answer.choices) && isRecord(answer.choices[0]) ? answer.choices[0] : {};
  const message = isRecord(choice.message) ? choice.message : {};
  const content: ContentBlock[] = [];
  const reasoning = textOf(message.reasoning_content) || textOf(message.reasoning);
  if (reasoning !== '') content.push({ type: 'thinking', thinking: reasoning, signature: '' });
  const text = textOf(message.content);
  if (text !== '') content.push({ type: 'text', text, citations: null });
  const refusal = textOf(message.refusal);
  if (refusal !== '') content.push({ type: 'text', text: refusal, citations: null });
  if (Array.isArray(message.tool_calls)) {
    (message.tool_calls as unknown[]).forEach((call, index) => {
      if (!isRecord(call) || !isRecord(call.function)) return;
      content.push({ type: 'tool_use', id: toolUseIdOf(call.id, names, index), name: textOf(call.function.name), input: parseArguments(call.function.arguments) });
    });
  }
  return {
    id: messageIdOf(answer.id, names),
    type: 'message',
    role: 'assistant',
    model: typeof answer.model === 'string' ? answer.model : names.model,
    content,
    stop_reason: stopReasonOf(choice.finish_reason),
    stop_sequence: null,
    usage: messagesUsageOf(answer.usage),
  };
}

/** Text content as a string: a string, or the text of an array of text parts. */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) return '';
  return (value as unknown[]).map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : '')).join('');
}

/** A tool call's id as given (Anthropic ids are `toolu_…`; a client only has to send the same one back), else one made up. */
export function toolUseIdOf(id: unknown, names: AnswerNames, index: number): string {
  return typeof id === 'string' && id !== '' ? id : `toolu_${names.requestId}_${index}`;
}

/** Tool-call arguments as the input object; arguments that are not a JSON object are kept whole under `arguments`. */
export function parseArguments(text: unknown): unknown {
  if (typeof text !== 'string' || text.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return isRecord(parsed) ? parsed : { arguments: text };
  } catch {
    return { arguments: text };
  }
}
