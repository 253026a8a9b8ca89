import type { ResolvedModel } from '../../config/parse-simulator-options.js';
import { contextLengthError } from '../../faults/fault-errors.js';
import { estimateTokens, TOKENS_PER_MESSAGE } from '../../generation/token-count.js';
import { invalidRequestError } from '../../http/http-error.js';
import { isRecord } from '../../json-value.js';
import { includeUsageRequested, optionalBoolean, optionalInteger, requireModel } from '../request-fields.js';

export interface ChatTool {
  name: string;
  /** The function's JSON schema, as sent. */
  parameters: unknown;
}

export type ResponseFormat = { type: 'text' } | { type: 'json_object' } | { type: 'json_schema'; schema: unknown };

export interface ChatRequest {
  model: ResolvedModel;
  /** Everything in the messages that should change the answer; the answer text is seeded from it. */
  promptKey: string;
  /** Each message's share of the prompt, in order: the prompt cache looks up their prefixes. */
  messages: readonly MessageSummary[];
  promptTokens: number;
  choiceCount: number;
  maximumTokens: number | undefined;
  stream: boolean;
  includeUsage: boolean;
  /** Set when the answer must be a call to this tool rather than text. */
  toolToCall: ChatTool | undefined;
  responseFormat: ResponseFormat;
  /**
   * The text of a trailing assistant message without tool calls: a prefill the answer continues. The answer is
   * then seeded from the messages before it (promptKey leaves it out), so that a prefill taken from the start of
   * the answer those messages get is continued with exactly the rest of that answer.
   */
  prefill: string | undefined;
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);
const MAXIMUM_CHOICES = 8;
const MAXIMUM_COMPLETION_TOKENS = 1_000_000;

export interface MessageSummary {
  role: string;
  /** Everything in the message that should change the answer. */
  key: string;
  text: string;
  hasToolCalls: boolean;
}

/** Text parts count toward tokens; image URLs only change the seed, since their token cost is not text-based. */
function summarizeContent(content: unknown, param: string): { text: string; extra: string } {
  if (content === undefined || content === null) {
    return { text: '', extra: '' };
  }
  if (typeof content === 'string') {
    return { text: content, extra: '' };
  }
  if (!Array.isArray(content)) {
    throw invalidRequestError(`Invalid '${param}': expected a string or an array of content parts.`, param, 'invalid_type');
  }
  let text = '';
  let extra = '';
  for (const part of content) {
    if (isRecord(part) && typeof part['text'] === 'string') {
      text += part['text'];
    } else if (isRecord(part) && isRecord(part['image_url']) && typeof part['image_url']['url'] === 'string') {
      extra += part['image_url']['url'];
    }
  }
  return { text, extra };
}

function summarizeMessage(message: unknown, index: number): MessageSummary {
  const param = `messages[${index}]`;
  if (!isRecord(message)) {
    throw invalidRequestError(`Invalid '${param}': expected an object.`, param, 'invalid_type');
  }
  const role = message['role'];
  if (typeof role !== 'string' || !ROLES.has(role)) {
    throw invalidRequestError(
      `Invalid value: ${JSON.stringify(role)}. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`,
      `${param}.role`,
      'invalid_value',
    );
  }
  const { text, extra } = summarizeContent(message['content'], `${param}.content`);
  const toolCalls = message['tool_calls'] === undefined ? '' : JSON.stringify(message['tool_calls']);
  const toolCallId = typeof message['tool_call_id'] === 'string' ? message['tool_call_id'] : '';
  return { role, key: `${role}\u0001${text}\u0001${extra}\u0001${toolCalls}\u0001${toolCallId}\u0002`, text, hasToolCalls: toolCalls !== '' };
}

function parseTools(body: Record<string, unknown>): ChatTool[] {
  const tools = body['tools'];
  if (tools === undefined || tools === null) {
    return [];
  }
  if (!Array.isArray(tools)) {
    throw invalidRequestError("Invalid 'tools': expected an array.", 'tools', 'invalid_type');
  }
  return tools.flatMap((tool, index): ChatTool[] => {
    if (!isRecord(tool) || tool['type'] !== 'function') {
      return [];
    }
    const definition = tool['function'];
    if (!isRecord(definition) || typeof definition['name'] !== 'string' || definition['name'].length === 0) {
      throw invalidRequestError(`Missing required parameter: 'tools[${index}].function.name'.`, `tools[${index}].function.name`);
    }
    return [{ name: definition['name'], parameters: definition['parameters'] }];
  });
}

function selectTool(body: Record<string, unknown>, tools: ChatTool[], lastRole: string): ChatTool | undefined {
  const toolChoice = body['tool_choice'];
  // After a tool result the model answers in text, as a real one does once it has what it asked for.
  if (tools.length === 0 || toolChoice === 'none' || lastRole === 'tool' || lastRole === 'function') {
    return undefined;
  }
  if (isRecord(toolChoice) && isRecord(toolChoice['function'])) {
    const name = toolChoice['function']['name'];
    const chosen = tools.find((tool) => tool.name === name);
    if (chosen === undefined) {
      throw invalidRequestError(
        `Invalid value for 'tool_choice': function ${JSON.stringify(name)} is not one of the given tools.`,
        'tool_choice',
        'invalid_value',
      );
    }
    return chosen;
  }
  return tools[0];
}

function parseResponseFormat(body: Record<string, unknown>): ResponseFormat {
  const format = body['response_format'];
  if (format === undefined || format === null) {
    return { type: 'text' };
  }
  const type = isRecord(format) ? format['type'] : undefined;
  if (type === 'text' || type === 'json_object') {
    return { type };
  }
  if (type === 'json_schema' && isRecord(format)) {
    const jsonSchema = format['json_schema'];
    return { type, schema: isRecord(jsonSchema) ? jsonSchema['schema'] : undefined };
  }
  throw invalidRequestError(
    "Invalid 'response_format.type': expected one of 'text', 'json_object' or 'json_schema'.",
    'response_format.type',
    'invalid_value',
  );
}

export function parseChatRequest(body: Record<string, unknown>, models: ReadonlyMap<string, ResolvedModel>): ChatRequest {
  const model = requireModel(body, models);
  const messages = body['messages'];
  if (messages === undefined || messages === null) {
    throw invalidRequestError("Missing required parameter: 'messages'.", 'messages');
  }
  if (!Array.isArray(messages) || messages.length === 0) {
    throw invalidRequestError("Invalid 'messages': expected a non-empty array of messages.", 'messages', 'invalid_value');
  }
  const summaries = messages.map(summarizeMessage);
  const textCharacters = summaries.reduce((sum, summary) => sum + summary.text.length, 0);
  const promptTokens = estimateTokens(textCharacters) + TOKENS_PER_MESSAGE * summaries.length;
  const maximumTokens =
    optionalInteger(body, 'max_completion_tokens', 1, MAXIMUM_COMPLETION_TOKENS) ??
    optionalInteger(body, 'max_tokens', 1, MAXIMUM_COMPLETION_TOKENS);
  if (promptTokens + (maximumTokens ?? 0) > model.contextWindow) {
    throw contextLengthError(model, promptTokens, maximumTokens ?? 0, 'messages');
  }
  const last = summaries[summaries.length - 1];
  const lastRole = last?.role ?? 'user';
  const prefill = last !== undefined && lastRole === 'assistant' && !last.hasToolCalls && summaries.length > 1 ? last.text : undefined;
  const seeded = prefill === undefined ? summaries : summaries.slice(0, -1);
  return {
    model,
    promptKey: seeded.map((summary) => summary.key).join(''),
    messages: summaries,
    promptTokens,
    choiceCount: optionalInteger(body, 'n', 1, MAXIMUM_CHOICES) ?? 1,
    maximumTokens,
    stream: optionalBoolean(body, 'stream') ?? false,
    includeUsage: includeUsageRequested(body),
    toolToCall: selectTool(body, parseTools(body), lastRole),
    responseFormat: parseResponseFormat(body),
    prefill,
  };
}
