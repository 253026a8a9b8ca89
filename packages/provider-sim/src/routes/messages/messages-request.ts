import type { ResolvedModel } from '../../config/parse-simulator-options.js';
import { invalidRequestError, SimulatorHttpError } from '../../http/http-error.js';
import { isRecord } from '../../json-value.js';
import type { ChatTool } from '../chat/chat-request.js';
import { parsePrompt, type PromptMessage, type PromptSegment } from './messages-prompt.js';
import { signatureOf } from './thinking-signature.js';

export interface MessagesRequest {
  model: ResolvedModel;
  /** Everything in the prompt that should change the answer, without cache_control; the answer is seeded from it. */
  promptKey: string;
  segments: PromptSegment[];
  /** Every input token, cached or not. */
  inputTokens: number;
  maximumTokens: number;
  stopSequences: string[];
  stream: boolean;
  /** Set when the answer must be a tool_use block for this tool rather than text. */
  toolToCall: ChatTool | undefined;
  /** Set when `thinking: {type: 'enabled'}`: the answer opens with a thinking block of at most this many tokens. */
  thinkingBudget: number | undefined;
}

const MAXIMUM_OUTPUT_TOKENS = 1_000_000;
/** Anthropic's smallest thinking budget. */
export const MINIMUM_THINKING_BUDGET = 1024;

export function notFoundModelError(name: string): SimulatorHttpError {
  return new SimulatorHttpError({ status: 404, message: `model: ${name}`, type: 'not_found_error' });
}

/** The model, named and served; Anthropic answers an unknown one with 404 not_found_error "model: <name>". */
export function requireMessagesModel(body: Record<string, unknown>, models: ReadonlyMap<string, ResolvedModel>): ResolvedModel {
  const name = body['model'];
  if (name === undefined || name === null) {
    throw invalidRequestError('model: Field required');
  }
  if (typeof name !== 'string') {
    throw invalidRequestError('model: Input should be a valid string');
  }
  const model = models.get(name);
  if (model === undefined) {
    throw notFoundModelError(name);
  }
  return model;
}

function optionalNumber(body: Record<string, unknown>, name: string, minimum: number, maximum: number): void {
  const value = body[name];
  if (value === undefined || value === null) {
    return;
  }
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw invalidRequestError(`${name}: Input should be a valid number`);
  }
  if (value < minimum || value > maximum) {
    throw invalidRequestError(`${name}: Input should be between ${minimum} and ${maximum}`);
  }
}

function requireMaximumTokens(body: Record<string, unknown>): number {
  const value = body['max_tokens'];
  if (value === undefined || value === null) {
    throw invalidRequestError('max_tokens: Field required');
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAXIMUM_OUTPUT_TOKENS) {
    throw invalidRequestError(`max_tokens: Input should be an integer between 1 and ${MAXIMUM_OUTPUT_TOKENS}`);
  }
  return value;
}

function parseStopSequences(body: Record<string, unknown>): string[] {
  const value = body['stop_sequences'];
  if (value === undefined || value === null) {
    return [];
  }
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string')) {
    throw invalidRequestError('stop_sequences: Input should be a valid list of strings');
  }
  return value.filter((item) => item.length > 0);
}

function parseThinking(body: Record<string, unknown>, maximumTokens: number): number | undefined {
  const thinking = body['thinking'];
  if (thinking === undefined || thinking === null) {
    return undefined;
  }
  if (!isRecord(thinking) || (thinking['type'] !== 'enabled' && thinking['type'] !== 'disabled')) {
    throw invalidRequestError("thinking.type: Input should be 'enabled' or 'disabled'");
  }
  if (thinking['type'] === 'disabled') {
    return undefined;
  }
  const budget = thinking['budget_tokens'];
  if (typeof budget !== 'number' || !Number.isInteger(budget)) {
    throw invalidRequestError('thinking.enabled.budget_tokens: Field required');
  }
  if (budget < MINIMUM_THINKING_BUDGET) {
    throw invalidRequestError(`thinking.enabled.budget_tokens: Input should be greater than or equal to ${MINIMUM_THINKING_BUDGET}`);
  }
  if (maximumTokens <= budget) {
    throw invalidRequestError('`max_tokens` must be greater than `thinking.budget_tokens`.');
  }
  return budget;
}

function customTools(body: Record<string, unknown>): ChatTool[] {
  const tools = body['tools'];
  if (!Array.isArray(tools)) {
    return [];
  }
  return tools.flatMap((tool): ChatTool[] =>
    isRecord(tool) && typeof tool['name'] === 'string' && (tool['type'] === undefined || tool['type'] === null || tool['type'] === 'custom')
      ? [{ name: tool['name'], parameters: tool['input_schema'] }]
      : [],
  );
}

function endsWithToolResult(messages: readonly PromptMessage[]): boolean {
  const last = messages[messages.length - 1];
  return last !== undefined && last.role === 'user' && last.blocks.some((block) => isRecord(block) && block['type'] === 'tool_result');
}

/**
 * The tool to call, as the chat endpoint picks it: the one `tool_choice` names, else the first custom tool; none with
 * `tool_choice: {type: 'none'}`, and none right after a tool_result, since the model then answers what it learnt.
 */
function selectTool(body: Record<string, unknown>, messages: readonly PromptMessage[]): ChatTool | undefined {
  const tools = customTools(body);
  const choice = body['tool_choice'];
  if (choice !== undefined && choice !== null) {
    const type = isRecord(choice) ? choice['type'] : undefined;
    if (type !== 'auto' && type !== 'any' && type !== 'tool' && type !== 'none') {
      throw invalidRequestError("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'");
    }
  }
  const type = isRecord(choice) ? choice['type'] : 'auto';
  if (tools.length === 0 || type === 'none' || endsWithToolResult(messages)) {
    return undefined;
  }
  if (type === 'tool' && isRecord(choice)) {
    const chosen = tools.find((tool) => tool.name === choice['name']);
    if (chosen === undefined) {
      throw invalidRequestError(`tool_choice.name: Tool '${String(choice['name'])}' not found in tools`);
    }
    return chosen;
  }
  return tools[0];
}

/** Anthropic rejects a thinking block whose signature it did not issue; the simulator checks its own signatures. */
function checkThinkingSignatures(messages: readonly PromptMessage[]): void {
  messages.forEach((message, messageIndex) => {
    message.blocks.forEach((block, blockIndex) => {
      if (block['type'] === 'thinking' && block['signature'] !== signatureOf(String(block['thinking']))) {
        throw invalidRequestError(`messages.${messageIndex}.content.${blockIndex}: Invalid \`signature\` in \`thinking\` block`);
      }
    });
  });
}

/** Validates a Messages request the way Anthropic does, naming the bad field as `path.to.field: problem`. */
export function parseMessagesRequest(body: Record<string, unknown>, models: ReadonlyMap<string, ResolvedModel>): MessagesRequest {
  const model = requireMessagesModel(body, models);
  const maximumTokens = requireMaximumTokens(body);
  const prompt = parsePrompt(body);
  optionalNumber(body, 'temperature', 0, 1);
  optionalNumber(body, 'top_p', 0, 1);
  optionalNumber(body, 'top_k', 0, Number.MAX_SAFE_INTEGER);
  const metadata = body['metadata'];
  if (metadata !== undefined && metadata !== null && !isRecord(metadata)) {
    throw invalidRequestError('metadata: Input should be a valid dictionary');
  }
  const stream = body['stream'];
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') {
    throw invalidRequestError('stream: Input should be a valid boolean');
  }
  checkThinkingSignatures(prompt.messages);
  if (prompt.inputTokens + maximumTokens > model.contextWindow) {
    throw invalidRequestError(
      `input length and \`max_tokens\` exceed context limit: ${prompt.inputTokens} + ${maximumTokens} > ` +
        `${model.contextWindow}, decrease input length or \`max_tokens\` and try again`,
    );
  }
  return {
    model,
    promptKey: prompt.segments.map((segment) => segment.canonical).join('\u0002'),
    segments: prompt.segments,
    inputTokens: prompt.inputTokens,
    maximumTokens,
    stopSequences: parseStopSequences(body),
    stream: stream === true,
    toolToCall: selectTool(body, prompt.messages),
    thinkingBudget: parseThinking(body, maximumTokens),
  };
}
