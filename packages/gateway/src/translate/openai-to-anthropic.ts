import { invalidRequest, isRecord, type GatewayError } from '@dosrouter/shared';
import type {
  Base64ImageSource,
  CacheControlEphemeral,
  ContentBlockParam,
  Message,
  MessageCreateParams,
  MessageDeltaUsage,
  MessageParam,
  TextBlockParam,
  Tool,
  ToolChoice,
  UrlSource,
} from './anthropic-types.js';
import { callArguments, maxTokensOf, parseDataUrl, stringAt, userContentParts } from './chat-request-parts.js';

/**
 * Chat Completions → Messages, for a `/v1/chat/completions` request routed to a `kind: anthropic` deployment, and
 * the answer back. Pure: no I/O, no clock (the caller passes `created`). Every field that Messages cannot express
 * is either refused with a 400 naming it or dropped, as docs/protocols.md lists.
 */

/** How one deployment's requests are translated (its `anthropic` config). */
export interface AnthropicTranslationOptions {
  /** The backend's model id. */
  readonly model: string;
  /** `max_tokens` when the request gives neither `max_completion_tokens` nor `max_tokens` (Messages requires one). */
  readonly defaultMaxTokens: number;
  /** Put `cache_control: {type: ephemeral}` on the last system block / the last tool (`anthropic.cache`). */
  readonly cache: { readonly system: boolean; readonly tools: boolean; readonly ttl?: '5m' | '1h' };
}

/** Thinking budgets for `reasoning_effort` (`minimal` and `none` turn thinking off); Messages' smallest budget is 1024. */
export const THINKING_BUDGETS: Readonly<Record<string, number>> = { low: 1_024, medium: 4_096, high: 16_384 };
const MIN_THINKING_BUDGET = 1_024;
const EPHEMERAL: CacheControlEphemeral = { type: 'ephemeral' };

export function toAnthropicRequest(body: Record<string, unknown>, stream: boolean, options: AnthropicTranslationOptions): MessageCreateParams {
  refuseUntranslatable(body);
  const { system, messages } = translateMessages(body.messages as unknown[]);
  const maxTokens = maxTokensOf(body) ?? options.defaultMaxTokens;
  const request: MessageCreateParams = { model: options.model, max_tokens: maxTokens, messages };
  // 5 minutes is Messages' default: only the longer lifetime is spelled out.
  const cacheControl: CacheControlEphemeral = options.cache.ttl === '1h' ? { type: 'ephemeral', ttl: '1h' } : EPHEMERAL;
  if (system.length > 0) {
    if (options.cache.system) system[system.length - 1] = { ...system[system.length - 1]!, cache_control: cacheControl };
    request.system = system;
  }
  const tools = translateTools(body.tools);
  const toolChoice = tools ? translateToolChoice(body.tool_choice, body.parallel_tool_calls) : undefined;
  if (tools) {
    if (options.cache.tools) tools[tools.length - 1] = { ...tools[tools.length - 1]!, cache_control: cacheControl };
    request.tools = tools;
    if (toolChoice) request.tool_choice = toolChoice;
  }
  const stop = body.stop;
  if (typeof stop === 'string') request.stop_sequences = [stop];
  else if (Array.isArray(stop) && stop.length > 0) request.stop_sequences = stop.map((value, index) => stringAt(value, `stop[${index}]`));
  const thinkingBudget = thinkingBudgetOf(body, maxTokens, toolChoice, messages);
  if (thinkingBudget !== undefined) {
    // Thinking accepts neither a temperature nor top_k, and top_p only from 0.95: they are left out.
    request.thinking = { type: 'enabled', budget_tokens: thinkingBudget };
  } else {
    // OpenAI's temperature goes to 2, Messages' to 1.
    if (typeof body.temperature === 'number') request.temperature = Math.min(1, Math.max(0, body.temperature));
    if (typeof body.top_p === 'number') request.top_p = body.top_p;
  }
  const user = body.user ?? (isRecord(body.metadata) ? body.metadata.user_id : undefined);
  if (typeof user === 'string' && user !== '') request.metadata = { user_id: user };
  if (stream) request.stream = true;
  return request;
}

/** What Messages has no way to say: refused, not silently changed. */
function refuseUntranslatable(body: Record<string, unknown>): void {
  if (typeof body.n === 'number' && body.n > 1) {
    throw untranslatable('`n` greater than 1 (Messages returns one choice per request)', 'n');
  }
  const format = body.response_format;
  if (isRecord(format) && format.type !== undefined && format.type !== 'text') {
    throw untranslatable(`\`response_format\` of type ${String(format.type)}`, 'response_format');
  }
  if (body.logprobs === true || typeof body.top_logprobs === 'number') throw untranslatable('`logprobs`', 'logprobs');
  if (Array.isArray(body.modalities) && body.modalities.some((modality) => modality !== 'text')) {
    throw untranslatable('output modalities other than text', 'modalities');
  }
}

function untranslatable(what: string, param: string): GatewayError {
  return invalidRequest(`${what} cannot be sent to a native Anthropic deployment.`, param, 'unsupported_by_deployment');
}

/**
 * `reasoning_effort` → a thinking budget (THINKING_BUDGETS), kept below `max_tokens` as Messages requires. No
 * thinking when the budget would fall under 1024, when a tool is forced (thinking allows only `auto` and `none`),
 * or when the request continues a tool call: Messages then wants the previous turn's signed thinking block back,
 * which a Chat Completions client never received.
 */
function thinkingBudgetOf(
  body: Record<string, unknown>,
  maxTokens: number,
  toolChoice: ToolChoice | undefined,
  messages: readonly MessageParam[],
): number | undefined {
  const effort = body.reasoning_effort;
  if (typeof effort !== 'string') return undefined;
  const level = THINKING_BUDGETS[effort];
  if (level === undefined) return undefined;
  const budget = Math.min(level, maxTokens - 1);
  if (budget < MIN_THINKING_BUDGET) return undefined;
  if (toolChoice && toolChoice.type !== 'auto' && toolChoice.type !== 'none') return undefined;
  const last = messages[messages.length - 1];
  if (last && Array.isArray(last.content) && last.content.some((block) => block.type === 'tool_result')) return undefined;
  return budget;
}

/**
 * System and developer messages become `system` blocks, wherever they stood. The others become Messages turns:
 * `tool` results join the user turn, and consecutive turns of one role are merged, as Messages requires
 * alternating roles.
 */
function translateMessages(input: readonly unknown[]): { system: TextBlockParam[]; messages: MessageParam[] } {
  const system: TextBlockParam[] = [];
  const messages: MessageParam[] = [];
  const append = (role: 'user' | 'assistant', blocks: ContentBlockParam[]): void => {
    if (blocks.length === 0) return;
    const last = messages[messages.length - 1];
    if (last?.role === role) {
      // Messages wants a user turn's tool results before its text.
      const merged = [...(last.content as ContentBlockParam[]), ...blocks];
      last.content = role === 'user' ? [...merged.filter(isToolResult), ...merged.filter((block) => !isToolResult(block))] : merged;
    } else {
      messages.push({ role, content: blocks });
    }
  };
  input.forEach((value, index) => {
    const message = value as Record<string, unknown>;
    const param = `messages[${index}]`;
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...textBlocks(message.content, `${param}.content`));
        return;
      case 'user':
        append('user', userBlocks(message.content, `${param}.content`));
        return;
      case 'assistant':
        append('assistant', assistantBlocks(message, param));
        return;
      case 'tool':
        append('user', [toolResult(message, param)]);
        return;
      default:
        throw untranslatable(`A message with role ${String(message.role)}`, `${param}.role`);
    }
  });
  return { system, messages };
}

function isToolResult(block: ContentBlockParam): boolean {
  return block.type === 'tool_result';
}

/** Text parts only (system, developer and tool messages); an empty text is left out (Messages refuses empty blocks). */
function textBlocks(content: unknown, param: string): TextBlockParam[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  if (content === undefined || content === null) return [];
  return (content as unknown[]).flatMap((part, index) => {
    const block = contentPart(part, `${param}[${index}]`);
    if (block === undefined) return [];
    if (block.type !== 'text') throw untranslatable(`A ${block.type} part in this message`, `${param}[${index}]`);
    return [block];
  });
}

function userBlocks(content: unknown, param: string): ContentBlockParam[] {
  return userContentParts<ContentBlockParam>(content, param, (text) => ({ type: 'text', text }), contentPart);
}

/**
 * One content part: text (its `cache_control`, as some OpenAI clients send it for Claude, is kept), an image (a
 * data URL as base64, an http(s) URL by reference) or a PDF file (base64). Audio has no Messages equivalent.
 */
function contentPart(part: unknown, param: string): ContentBlockParam | undefined {
  if (!isRecord(part)) throw invalidRequest(`\`${param}\` must be an object.`, param, 'invalid_type');
  switch (part.type) {
    case 'text': {
      const text = stringAt(part.text, `${param}.text`);
      if (text === '') return undefined;
      if (!isRecord(part.cache_control)) return { type: 'text', text };
      return { type: 'text', text, cache_control: part.cache_control.ttl === '1h' ? { type: 'ephemeral', ttl: '1h' } : EPHEMERAL };
    }
    case 'image_url': {
      const url = isRecord(part.image_url) ? part.image_url.url : undefined;
      return { type: 'image', source: imageSource(stringAt(url, `${param}.image_url.url`), `${param}.image_url.url`) };
    }
    case 'refusal':
      // An earlier assistant turn's refusal: Messages has no block for it.
      return undefined;
    case 'file': {
      const data = isRecord(part.file) ? part.file.file_data : undefined;
      const parsed = typeof data === 'string' ? parseDataUrl(data) : undefined;
      if (parsed?.mediaType !== 'application/pdf') throw untranslatable('A file part other than a PDF given as a data URL', `${param}.file`);
      return { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: parsed.data } };
    }
    default:
      throw untranslatable(`A content part of type ${String(part.type)}`, `${param}.type`);
  }
}

function imageSource(url: string, param: string): Base64ImageSource | UrlSource {
  if (url.startsWith('data:')) {
    const parsed = parseDataUrl(url);
    if (!parsed) throw invalidRequest(`\`${param}\` is not a base64 data URL.`, param, 'invalid_value');
    if (!isImageMediaType(parsed.mediaType)) throw untranslatable(`An image of type ${parsed.mediaType} (Messages takes JPEG, PNG, GIF and WebP)`, param);
    return { type: 'base64', media_type: parsed.mediaType, data: parsed.data };
  }
  if (/^https?:\/\//i.test(url)) return { type: 'url', url };
  throw invalidRequest(`\`${param}\` must be an http(s) URL or a base64 data URL.`, param, 'invalid_value');
}

const IMAGE_MEDIA_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

function isImageMediaType(mediaType: string): mediaType is Base64ImageSource['media_type'] {
  return IMAGE_MEDIA_TYPES.has(mediaType);
}

function assistantBlocks(message: Record<string, unknown>, param: string): ContentBlockParam[] {
  // A refusal or reasoning text has no Messages block that a request may carry without its signature: dropped.
  const blocks: ContentBlockParam[] = textBlocks(message.content, `${param}.content`);
  const calls = message.tool_calls;
  if (calls === undefined || calls === null) return blocks;
  if (!Array.isArray(calls)) throw invalidRequest(`\`${param}.tool_calls\` must be an array.`, `${param}.tool_calls`, 'invalid_type');
  calls.forEach((call: unknown, index) => {
    const callParam = `${param}.tool_calls[${index}]`;
    if (!isRecord(call) || !isRecord(call.function)) throw invalidRequest(`\`${callParam}\` must be a function call.`, callParam, 'invalid_type');
    blocks.push({
      type: 'tool_use',
      id: stringAt(call.id, `${callParam}.id`),
      name: stringAt(call.function.name, `${callParam}.function.name`),
      input: callArguments(call.function.arguments, `${callParam}.function.arguments`),
    });
  });
  return blocks;
}

function toolResult(message: Record<string, unknown>, param: string): ContentBlockParam {
  const id = stringAt(message.tool_call_id, `${param}.tool_call_id`);
  const content = textBlocks(message.content, `${param}.content`);
  return { type: 'tool_result', tool_use_id: id, content };
}

function translateTools(tools: unknown): Tool[] | undefined {
  if (!Array.isArray(tools) || tools.length === 0) return undefined;
  return tools.map((tool: unknown, index) => {
    const param = `tools[${index}]`;
    if (!isRecord(tool) || tool.type !== 'function' || !isRecord(tool.function)) {
      throw untranslatable(`A tool that is not a function`, param);
    }
    const definition = tool.function;
    const parameters = definition.parameters;
    return {
      name: stringAt(definition.name, `${param}.function.name`),
      ...(typeof definition.description === 'string' ? { description: definition.description } : {}),
      input_schema: isRecord(parameters) ? { type: 'object', ...parameters } : { type: 'object', properties: {} },
    };
  });
}

function translateToolChoice(choice: unknown, parallel: unknown): ToolChoice | undefined {
  let translated: Exclude<ToolChoice, { type: 'none' }> | undefined;
  if (choice === 'none') return { type: 'none' };
  if (choice === 'auto') translated = { type: 'auto' };
  else if (choice === 'required') translated = { type: 'any' };
  else if (isRecord(choice) && isRecord(choice.function)) translated = { type: 'tool', name: stringAt(choice.function.name, 'tool_choice.function.name') };
  else if (choice !== undefined && choice !== null) throw invalidRequest('`tool_choice` must be none, auto, required or a function.', 'tool_choice', 'invalid_value');
  if (parallel === false) return { ...(translated ?? { type: 'auto' }), disable_parallel_tool_use: true };
  return translated;
}

/** Messages' `stop_reason` → Chat Completions' `finish_reason`. */
export function finishReasonOf(stopReason: string | null | undefined): string {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      // end_turn, stop_sequence, pause_turn
      return 'stop';
  }
}

/**
 * Messages usage → Chat Completions usage. The prompt is everything read: fresh input, cache reads and cache writes;
 * `cached_tokens` is the cache reads. Messages' own counts ride along (`cache_read_input_tokens`,
 * `cache_creation_input_tokens`) so that pricing can tell a cache write from fresh input.
 */
export function chatUsageOf(usage: MessagesUsage | undefined): ChatUsage {
  const input = count(usage?.input_tokens);
  const cacheRead = count(usage?.cache_read_input_tokens);
  const cacheWrite = count(usage?.cache_creation_input_tokens);
  const completion = count(usage?.output_tokens);
  const prompt = input + cacheRead + cacheWrite;
  const chat: ChatUsage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cacheRead },
    cache_read_input_tokens: cacheRead,
    cache_creation_input_tokens: cacheWrite,
  };
  // The writes by cache lifetime: a 1-hour write is priced apart.
  if (isRecord(usage?.cache_creation)) chat.cache_creation = usage.cache_creation;
  return chat;
}

/** Messages' usage, as an answer or a stream's message_start and message_delta report it. */
export type MessagesUsage = Partial<MessageDeltaUsage> & { cache_creation?: unknown };

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  cache_creation?: Record<string, unknown>;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}

/** A whole Messages answer as a `chat.completion`: text joined, tool uses as tool calls, thinking as `reasoning_content`. */
export function toChatCompletion(message: Message, created: number): Record<string, unknown> {
  let text: string | null = null;
  let reasoning: string | undefined;
  const toolCalls: Record<string, unknown>[] = [];
  for (const block of message.content ?? []) {
    if (block.type === 'text') text = (text ?? '') + block.text;
    else if (block.type === 'thinking') reasoning = (reasoning ?? '') + block.thinking;
    else if (block.type === 'tool_use') {
      toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
    }
  }
  const assistant: Record<string, unknown> = { role: 'assistant', content: text, refusal: null };
  if (reasoning !== undefined) assistant.reasoning_content = reasoning;
  if (toolCalls.length > 0) assistant.tool_calls = toolCalls;
  return {
    id: message.id,
    object: 'chat.completion',
    created,
    model: message.model,
    choices: [{ index: 0, message: assistant, logprobs: null, finish_reason: finishReasonOf(message.stop_reason) }],
    // No usage reported, no usage: the gateway then estimates the tokens rather than record none.
    ...(isRecord(message.usage) ? { usage: chatUsageOf(message.usage) } : {}),
  };
}
