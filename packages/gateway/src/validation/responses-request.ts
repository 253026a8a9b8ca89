import { invalidRequest, isRecord } from '@dosrouter/shared';
import { responsesToChat } from '../translate/responses-to-chat.js';
import type { ResponsesRequest } from '../translate/responses-types.js';
import { checkEstimateFields, MAX_COMPLETION_TOKENS } from './estimate-fields.js';
import { requireModel, type ProxiedRequest } from './request-fields.js';

/**
 * Checks a Responses request (`POST /v1/responses`) as far as the gateway relies on it, so that its Chat translation
 * is total, and answers what is wrong as OpenAI does: a 400 `invalid_request_error` whose `param` names the field
 * (`input[2].content[0].image_url`). What the gateway cannot carry (built-in tools, background mode, conversations,
 * prompt templates) is refused here, naming the field, whatever deployment the request would go to. The result
 * carries the request as sent and its Chat translation, which routing, limits and usage estimates read.
 */
export function validateResponsesRequest(body: Record<string, unknown>): ProxiedRequest {
  const model = requireModel(body);
  checkInput(body.input);
  optionalString(body, 'instructions');
  checkTools(body.tools);
  checkToolChoice(body.tool_choice);
  const maxOutput = body.max_output_tokens;
  if (maxOutput !== undefined && maxOutput !== null && (typeof maxOutput !== 'number' || !Number.isInteger(maxOutput) || maxOutput < 1 || maxOutput > MAX_COMPLETION_TOKENS)) {
    fail('max_output_tokens', `must be an integer from 1 to ${MAX_COMPLETION_TOKENS}`, 'invalid_value');
  }
  checkRange(body, 'temperature', 2);
  checkRange(body, 'top_p', 1);
  checkText(body.text);
  checkReasoning(body.reasoning);
  checkMetadata(body.metadata);
  for (const field of ['stream', 'store', 'parallel_tool_calls'] as const) {
    const value = body[field];
    if (value !== undefined && value !== null && typeof value !== 'boolean') fail(field, 'must be a boolean', 'invalid_type');
  }
  optionalString(body, 'previous_response_id');
  optionalString(body, 'user');
  for (const [field, what] of REFUSED_FIELDS) {
    const value = body[field];
    if (value !== undefined && value !== null && value !== false) fail(field, `is not supported by this gateway: ${what}`, 'unsupported_parameter');
  }
  const request = body as unknown as ResponsesRequest;
  const chat = responsesToChat(request);
  checkEstimateFields(chat);
  const user = typeof request.user === 'string' && request.user !== '' ? request.user : undefined;
  return {
    // Rules match a Responses request's `metadata` as they do a chat request's; a Chat backend does not get it.
    body: request.metadata ? { ...chat, metadata: request.metadata } : chat,
    model,
    stream: request.stream === true,
    includeUsage: false,
    responses: request,
    ...(user ? { sessionId: user } : {}),
  };
}

/** Fields of the Responses API the gateway does not carry, and why. */
const REFUSED_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ['background', 'background mode needs the response kept and polled'],
  ['conversation', 'conversations are kept by OpenAI'],
  ['prompt', 'prompt templates are kept by OpenAI'],
];

const MESSAGE_ROLES = new Set(['user', 'assistant', 'system', 'developer']);
const INPUT_PARTS = new Set(['input_text', 'input_image', 'input_file']);
const OUTPUT_PARTS = new Set(['output_text', 'refusal']);

function checkInput(input: unknown): void {
  if (input === undefined || input === null) fail('input', 'is required', 'missing_required_parameter');
  if (typeof input === 'string') return;
  if (!Array.isArray(input)) fail('input', 'must be a string or an array of input items', 'invalid_type');
  if (input.length === 0) fail('input', 'must contain at least one item', 'invalid_value');
  input.forEach((item: unknown, index) => checkItem(item, `input[${index}]`));
}

function checkItem(item: unknown, path: string): void {
  if (!isRecord(item)) fail(path, 'must be an object', 'invalid_type');
  const type = item.type ?? (item.role !== undefined ? 'message' : undefined);
  switch (type) {
    case 'message': {
      if (typeof item.role !== 'string' || !MESSAGE_ROLES.has(item.role)) fail(`${path}.role`, `must be one of ${[...MESSAGE_ROLES].join(', ')}`, 'invalid_value');
      const content = item.content;
      if (typeof content === 'string') return;
      if (!Array.isArray(content)) fail(`${path}.content`, 'must be a string or an array of content parts', 'invalid_type');
      const allowed = item.role === 'assistant' ? OUTPUT_PARTS : INPUT_PARTS;
      content.forEach((part: unknown, index) => checkPart(part, `${path}.content[${index}]`, allowed));
      return;
    }
    case 'function_call':
      requireString(item, 'call_id', path);
      requireString(item, 'name', path);
      requireString(item, 'arguments', path);
      return;
    case 'function_call_output': {
      requireString(item, 'call_id', path);
      const output = item.output;
      if (typeof output === 'string') return;
      if (!Array.isArray(output)) fail(`${path}.output`, 'must be a string or an array of content parts', 'invalid_type');
      output.forEach((part: unknown, index) => checkPart(part, `${path}.output[${index}]`, INPUT_PARTS));
      return;
    }
    case 'reasoning':
      if (item.summary !== undefined && !Array.isArray(item.summary)) fail(`${path}.summary`, 'must be an array', 'invalid_type');
      return;
    case 'item_reference':
      fail(`${path}.type`, 'item references need stored responses, which this gateway does not keep', 'unsupported_parameter');
      break;
    default:
      fail(`${path}.type`, typeof type === 'string'
        ? `input items of type '${type}' are not supported by this gateway (message, function_call, function_call_output and reasoning are)`
        : 'is required', typeof type === 'string' ? 'unsupported_parameter' : 'missing_required_parameter');
  }
}

function checkPart(part: unknown, path: string, allowed: ReadonlySet<string>): void {
  if (!isRecord(part)) fail(path, 'must be an object', 'invalid_type');
  const type = part.type;
  if (typeof type !== 'string' || !allowed.has(type)) fail(`${path}.type`, `must be one of ${[...allowed].join(', ')}`, 'invalid_value');
  switch (type) {
    case 'input_text':
    case 'output_text':
      requireString(part, 'text', path);
      return;
    case 'refusal':
      requireString(part, 'refusal', path);
      return;
    case 'input_image':
      if (typeof part.image_url !== 'string' && typeof part.file_id !== 'string') fail(`${path}.image_url`, 'an image URL, a data URL, or a file_id', 'missing_required_parameter');
      if (part.detail !== undefined && part.detail !== null && (typeof part.detail !== 'string' || !['low', 'high', 'auto', 'original'].includes(part.detail))) fail(`${path}.detail`, "must be 'low', 'high', 'original' or 'auto'", 'invalid_value');
      return;
    case 'input_file':
      if (typeof part.file_data !== 'string' && typeof part.file_id !== 'string' && typeof part.file_url !== 'string') {
        fail(`${path}.file_data`, 'one of file_data, file_id or file_url', 'missing_required_parameter');
      }
  }
}

function checkTools(tools: unknown): void {
  if (tools === undefined || tools === null) return;
  if (!Array.isArray(tools)) fail('tools', 'must be an array', 'invalid_type');
  tools.forEach((tool: unknown, index) => {
    const path = `tools[${index}]`;
    if (!isRecord(tool)) fail(path, 'must be an object', 'invalid_type');
    if (tool.type !== 'function') {
      if (typeof tool.type !== 'string') fail(`${path}.type`, 'is required', 'missing_required_parameter');
      fail(`${path}.type`, `tools of type '${tool.type}' are not supported by this gateway: only function tools are`, 'unsupported_parameter');
    }
    requireString(tool, 'name', path);
    if (tool.parameters !== undefined && tool.parameters !== null && !isRecord(tool.parameters)) fail(`${path}.parameters`, 'must be a JSON schema object', 'invalid_type');
    if (tool.description !== undefined && tool.description !== null && typeof tool.description !== 'string') fail(`${path}.description`, 'must be a string', 'invalid_type');
    if (tool.strict !== undefined && tool.strict !== null && typeof tool.strict !== 'boolean') fail(`${path}.strict`, 'must be a boolean', 'invalid_type');
  });
}

function checkToolChoice(choice: unknown): void {
  if (choice === undefined || choice === null || choice === 'none' || choice === 'auto' || choice === 'required') return;
  if (!isRecord(choice)) fail('tool_choice', "must be 'none', 'auto', 'required' or a function", 'invalid_value');
  if (choice.type !== 'function') fail('tool_choice.type', "only 'function' is supported by this gateway", 'unsupported_parameter');
  requireString(choice, 'name', 'tool_choice');
}

const TEXT_FORMATS = new Set(['text', 'json_object', 'json_schema']);

function checkText(text: unknown): void {
  if (text === undefined || text === null) return;
  if (!isRecord(text)) fail('text', 'must be an object', 'invalid_type');
  const format = text.format;
  if (format !== undefined && format !== null) {
    if (!isRecord(format) || typeof format.type !== 'string' || !TEXT_FORMATS.has(format.type)) fail('text.format.type', "must be 'text', 'json_object' or 'json_schema'", 'invalid_value');
    if (format.type === 'json_schema') {
      requireString(format, 'name', 'text.format');
      if (!isRecord(format.schema)) fail('text.format.schema', 'a JSON schema object', 'missing_required_parameter');
    }
  }
  if (text.verbosity !== undefined && text.verbosity !== null && (typeof text.verbosity !== 'string' || !['low', 'medium', 'high'].includes(text.verbosity))) {
    fail('text.verbosity', "must be 'low', 'medium' or 'high'", 'invalid_value');
  }
}

const EFFORTS = new Set(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']);

function checkReasoning(reasoning: unknown): void {
  if (reasoning === undefined || reasoning === null) return;
  if (!isRecord(reasoning)) fail('reasoning', 'must be an object', 'invalid_type');
  const effort = reasoning.effort;
  if (effort !== undefined && effort !== null && (typeof effort !== 'string' || !EFFORTS.has(effort))) fail('reasoning.effort', `must be one of ${[...EFFORTS].join(', ')}`, 'invalid_value');
}

function checkMetadata(metadata: unknown): void {
  if (metadata === undefined || metadata === null) return;
  if (!isRecord(metadata)) fail('metadata', 'must be an object of strings', 'invalid_type');
  const entries = Object.entries(metadata);
  if (entries.length > 16) fail('metadata', 'may have at most 16 keys', 'invalid_value');
  for (const [key, value] of entries) {
    if (key.length > 64) fail('metadata', 'keys are at most 64 characters', 'invalid_value');
    if (typeof value !== 'string' || value.length > 512) fail(`metadata.${key}`, 'must be a string of at most 512 characters', 'invalid_value');
  }
}

function checkRange(body: Record<string, unknown>, field: string, maximum: number): void {
  const value = body[field];
  if (value !== undefined && value !== null && (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > maximum)) {
    fail(field, `must be a number from 0 to ${maximum}`, 'invalid_value');
  }
}

function optionalString(body: Record<string, unknown>, field: string): void {
  const value = body[field];
  if (value !== undefined && value !== null && typeof value !== 'string') fail(field, 'must be a string', 'invalid_type');
}

function requireString(record: Record<string, unknown>, field: string, path: string): void {
  const value = record[field];
  if (typeof value !== 'string') fail(`${path}.${field}`, value === undefined ? 'is required' : 'must be a string', value === undefined ? 'missing_required_parameter' : 'invalid_type');
}

/** A 400 naming the field as OpenAI does: `Missing required parameter: 'input'.`, `Invalid 'top_p': must be … .` */
function fail(param: string, problem: string, code: string): never {
  const message = code === 'missing_required_parameter' ? `Missing required parameter: '${param}'${problem === 'is required' ? '' : ` (${problem})`}.` : `Invalid '${param}': ${problem}.`;
  throw invalidRequest(message, param, code);
}
