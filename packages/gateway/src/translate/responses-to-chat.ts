import { tokenCount } from '../usage/token-usage.js';
import { isRecord } from '@dosrouter/shared';
import type {
  FunctionTool,
  InputItem,
  InputPart,
  OutputItem,
  OutputRefusal,
  OutputText,
  ResponseObject,
  ResponseStatus,
  ResponseUsage,
  ResponsesRequest,
  TextFormat,
  ToolChoice,
} from './responses-types.js';

/**
 * OpenAI Responses in, OpenAI Chat Completions out, and the answer back: pure functions over validated bodies
 * (validation/responses-request.ts). What Chat Completions cannot carry is dropped, as docs/protocols.md lists:
 * reasoning items of earlier turns, `reasoning.summary`, `truncation`, `include`, `store` and `metadata` (kept by the
 * gateway, not sent).
 */

type ChatMessage = Record<string, unknown>;
type ChatPart = Record<string, unknown>;

/** The Chat Completions body for a Responses request (the model is the client's; each attempt sets its deployment's). */
export function responsesToChat(request: ResponsesRequest): Record<string, unknown> {
  const messages: ChatMessage[] = [];
  if (typeof request.instructions === 'string' && request.instructions !== '') messages.push({ role: 'system', content: request.instructions });
  if (typeof request.input === 'string') messages.push({ role: 'user', content: request.input });
  else {
    // The assistant message a function call joins: the one right before it (Chat puts a turn's text and its tool
    // calls in one message); reasoning items between them are skipped.
    let assistant: ChatMessage | undefined;
    for (const item of request.input) {
      if (item.type === 'reasoning') continue;
      assistant = addItem(messages, item, assistant);
    }
  }
  const chat: Record<string, unknown> = { model: request.model, messages };
  if (request.stream === true) chat.stream = true;
  if (typeof request.max_output_tokens === 'number') chat.max_completion_tokens = request.max_output_tokens;
  if (typeof request.temperature === 'number') chat.temperature = request.temperature;
  if (typeof request.top_p === 'number') chat.top_p = request.top_p;
  const tools = (request.tools ?? []).map(chatTool);
  if (tools.length > 0) {
    chat.tools = tools;
    if (request.tool_choice !== undefined && request.tool_choice !== null) chat.tool_choice = chatToolChoice(request.tool_choice);
    if (typeof request.parallel_tool_calls === 'boolean') chat.parallel_tool_calls = request.parallel_tool_calls;
  }
  const format = request.text?.format;
  if (format && format.type !== 'text') chat.response_format = chatResponseFormat(format);
  if (request.text?.verbosity) chat.verbosity = request.text.verbosity;
  if (request.reasoning?.effort) chat.reasoning_effort = request.reasoning.effort;
  for (const field of ['user', 'safety_identifier', 'prompt_cache_key', 'service_tier'] as const) {
    const value = request[field];
    if (typeof value === 'string' && value !== '') chat[field] = value;
  }
  return chat;
}

/**
 * One input item as Chat messages, appended to `messages`; returns the assistant message a function call that follows
 * joins. A function call's output is a `tool` message, its images a user message after it (a `tool` message holds
 * text only). Reasoning items are not passed here: Chat has no place for an earlier turn's reasoning.
 */
function addItem(messages: ChatMessage[], item: Exclude<InputItem, { type: 'reasoning' }>, assistant: ChatMessage | undefined): ChatMessage | undefined {
  if (item.type === 'function_call') {
    const call = { id: item.call_id, type: 'function', function: { name: item.name, arguments: item.arguments } };
    if (assistant) {
      assistant.tool_calls = [...((assistant.tool_calls as unknown[] | undefined) ?? []), call];
      return assistant;
    }
    const message: ChatMessage = { role: 'assistant', content: null, tool_calls: [call] };
    messages.push(message);
    return message;
  }
  if (item.type === 'function_call_output') {
    if (typeof item.output === 'string') {
      messages.push({ role: 'tool', tool_call_id: item.call_id, content: item.output });
      return undefined;
    }
    const texts = item.output.filter((part) => part.type === 'input_text').map((part) => part.text);
    messages.push({ role: 'tool', tool_call_id: item.call_id, content: texts.join('\n') });
    const media = item.output.filter((part) => part.type !== 'input_text');
    if (media.length > 0) messages.push({ role: 'user', content: userContent(media) });
    return undefined;
  }
  if (item.role === 'assistant') {
    const message: ChatMessage = { role: 'assistant', content: assistantText(item.content) };
    const refusal = typeof item.content === 'string' ? '' : item.content.map((part) => (part.type === 'refusal' ? part.refusal : '')).join('');
    if (refusal !== '') message.refusal = refusal;
    messages.push(message);
    return message;
  }
  messages.push({ role: item.role, content: typeof item.content === 'string' ? item.content : userContent(item.content as InputPart[]) });
  return undefined;
}

function assistantText(content: string | Array<InputPart | OutputText | OutputRefusal>): string | null {
  if (typeof content === 'string') return content;
  const text = content.map((part) => (part.type === 'output_text' ? part.text : '')).join('');
  return text === '' ? null : text;
}

/** A user, system or developer message's parts: a string when they are all text, else Chat parts. */
function userContent(parts: readonly InputPart[]): string | ChatPart[] {
  if (parts.every((part) => part.type === 'input_text')) return parts.map((part) => (part as { text: string }).text).join('\n');
  return parts.map(chatPart);
}

function chatPart(part: InputPart): ChatPart {
  switch (part.type) {
    case 'input_text':
      return { type: 'text', text: part.text };
    case 'input_image': {
      if (typeof part.image_url !== 'string') return { type: 'file', file: { file_id: part.file_id } };
      const detail = part.detail === 'low' || part.detail === 'high' || part.detail === 'auto' ? { detail: part.detail } : {};
      return { type: 'image_url', image_url: { url: part.image_url, ...detail } };
    }
    case 'input_file': {
      if (typeof part.file_url === 'string' && part.file_data === undefined && !part.file_id) return { type: 'text', text: `File: ${part.file_url}` };
      const file: Record<string, unknown> = {};
      if (part.file_data !== undefined) file.file_data = part.file_data;
      if (part.file_id) file.file_id = part.file_id;
      if (part.filename !== undefined) file.filename = part.filename;
      return { type: 'file', file };
    }
  }
}

function chatTool(tool: FunctionTool): Record<string, unknown> {
  const definition: Record<string, unknown> = { name: tool.name, parameters: tool.parameters ?? { type: 'object', properties: {} } };
  if (typeof tool.description === 'string') definition.description = tool.description;
  if (typeof tool.strict === 'boolean') definition.strict = tool.strict;
  return { type: 'function', function: definition };
}

function chatToolChoice(choice: ToolChoice): unknown {
  return typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
}

function chatResponseFormat(format: Exclude<TextFormat, { type: 'text' }>): Record<string, unknown> {
  if (format.type === 'json_object') return { type: 'json_object' };
  const schema: Record<string, unknown> = { name: format.name, schema: format.schema };
  if (typeof format.description === 'string') schema.description = format.description;
  if (typeof format.strict === 'boolean') schema.strict = format.strict;
  return { type: 'json_schema', json_schema: schema };
}

// ── The answer ──────────────────────────────────────────────────────────────────────────────────────────────────────

/** What names a Response and what it repeats of its request. */
export interface ResponseNames {
  /** `resp_…`, made by the gateway (a Chat backend's answer has no Responses id). */
  readonly id: string;
  /** The model the client asked for, when the backend's answer names none. */
  readonly model: string;
  /** Seconds since the epoch. */
  readonly createdAt: number;
  /** The request, whose settings a Response repeats. */
  readonly request: ResponsesRequest;
}

/** A Response with no output yet, as `response.created` carries it; the settings are the request's. */
export function emptyResponse(names: ResponseNames, model: string, status: ResponseStatus): ResponseObject {
  const { request } = names;
  return {
    id: names.id,
    object: 'response',
    created_at: names.createdAt,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    model,
    output: [],
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: request.previous_response_id ?? null,
    reasoning: { effort: request.reasoning?.effort ?? null, summary: request.reasoning?.summary ?? null },
    store: request.store ?? true,
    temperature: request.temperature ?? 1,
    text: { format: request.text?.format ?? { type: 'text' }, ...(request.text?.verbosity ? { verbosity: request.text.verbosity } : {}) },
    tool_choice: request.tool_choice ?? 'auto',
    tools: request.tools ?? [],
    top_p: request.top_p ?? 1,
    truncation: request.truncation ?? 'disabled',
    usage: null,
    user: request.user ?? null,
    metadata: request.metadata ?? {},
  };
}

/** Chat usage as Responses usage: the same counts under Responses' names, cached and reasoning tokens included. */
export function responseUsageOf(usage: unknown): ResponseUsage {
  const record = isRecord(usage) ? usage : {};
  const input = tokenCount(record.prompt_tokens);
  const output = tokenCount(record.completion_tokens);
  const promptDetails = isRecord(record.prompt_tokens_details) ? record.prompt_tokens_details : {};
  const completionDetails = isRecord(record.completion_tokens_details) ? record.completion_tokens_details : {};
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: Math.min(input, tokenCount(promptDetails.cached_tokens)) },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: Math.min(output, tokenCount(completionDetails.reasoning_tokens)) },
    total_tokens: input + output,
  };
}

/** A Chat `finish_reason` as a Response's status and why it is incomplete. */
export function statusOf(finishReason: unknown): Pick<ResponseObject, 'status' | 'incomplete_details'> {
  if (finishReason === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (finishReason === 'content_filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

/** The ids of a Response's output items: the Response's own id with a prefix and a position. */
export function itemId(names: ResponseNames, prefix: 'msg' | 'fc' | 'rs', index: number): string {
  return `${prefix}_${names.id.replace(/^resp_/, '')}_${index}`;
}

/**
 * A whole Chat completion as a Response: the first choice's reasoning as a reasoning item (its text as
 * `reasoning_text` content), its text and refusal as one message item, each tool call as a function_call item whose
 * `call_id` is the call's id.
 */
export function chatToResponse(completion: unknown, names: ResponseNames): ResponseObject {
  const answer = isRecord(completion) ? completion : {};
  const choice = Array.isArray(answer.choices) && isRecord(answer.choices[0]) ? answer.choices[0] : {};
  const message = isRecord(choice.message) ? choice.message : {};
  const output: OutputItem[] = [];
  const reasoning = textOf(message.reasoning_content) || textOf(message.reasoning);
  if (reasoning !== '') output.push({ type: 'reasoning', id: itemId(names, 'rs', output.length), summary: [], content: [{ type: 'reasoning_text', text: reasoning }] });
  const content: Array<OutputText | OutputRefusal> = [];
  const text = textOf(message.content);
  if (text !== '') content.push({ type: 'output_text', text, annotations: [], logprobs: [] });
  const refusal = textOf(message.refusal);
  if (refusal !== '') content.push({ type: 'refusal', refusal });
  if (content.length > 0) output.push({ type: 'message', id: itemId(names, 'msg', output.length), role: 'assistant', status: 'completed', content });
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls as unknown[]) {
      if (!isRecord(call) || !isRecord(call.function)) continue;
      const id = itemId(names, 'fc', output.length);
      output.push({ type: 'function_call', id, call_id: typeof call.id === 'string' && call.id !== '' ? call.id : `call_${id}`, name: textOf(call.function.name), arguments: textOf(call.function.arguments), status: 'completed' });
    }
  }
  const model = typeof answer.model === 'string' && answer.model !== '' ? answer.model : names.model;
  return { ...emptyResponse(names, model, 'completed'), ...statusOf(choice.finish_reason), output, usage: isRecord(answer.usage) ? responseUsageOf(answer.usage) : null, completed_at: names.createdAt };
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) return '';
  return (value as unknown[]).map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : '')).join('');
}
