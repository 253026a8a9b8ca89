import type { ResolvedModel } from '../../config/parse-simulator-options.js';
import { estimateTokens, TOKENS_PER_MESSAGE } from '../../generation/token-count.js';
import { invalidRequestError, SimulatorHttpError } from '../../http/http-error.js';
import { isRecord } from '../../json-value.js';
import type { ChatTool, MessageSummary, ResponseFormat } from '../chat/chat-request.js';

export interface GeminiRequest {
  model: ResolvedModel;
  /** Everything in the prompt that should change the answer; the answer is seeded from it. */
  promptKey: string;
  /** Each content's share of the prompt, system instruction first: the implicit cache looks up their prefixes. */
  messages: readonly MessageSummary[];
  promptTokens: number;
  candidateCount: number;
  maximumTokens: number | undefined;
  /** Set when the answer must be a call to this function rather than text. */
  toolToCall: ChatTool | undefined;
  responseFormat: ResponseFormat;
  /** thinkingConfig.thinkingBudget above 0: the answer reports this many thinking tokens at most. */
  thinkingBudget: number | undefined;
}

/** What Gemini counts for an image or a file given by URI, whatever its size (the simulator does not decode it). */
export const MEDIA_PART_TOKENS = 258;
const MAXIMUM_CANDIDATES = 8;
const MAXIMUM_OUTPUT_TOKENS = 1_000_000;

function fieldError(field: string, problem: string): SimulatorHttpError {
  return invalidRequestError(`* GenerateContentRequest.${field}: ${problem}`);
}

export function geminiModelNotFound(name: string): SimulatorHttpError {
  return new SimulatorHttpError({ status: 404, message: `models/${name} is not found for API version v1beta, or is not supported for generateContent.`, type: 'not_found_error' });
}

/** `gemini-3…` and later check that replayed function calls carry a thought signature, as Google's do. */
function checksThoughtSignatures(modelId: string): boolean {
  const major = /^gemini-(\d+)/.exec(modelId)?.[1];
  return major !== undefined && Number(major) >= 3;
}

interface PartSummary {
  text: string;
  tokens: number;
  functionCall?: string;
  functionResponse?: string;
}

function summarizePart(part: unknown, field: string): PartSummary {
  if (!isRecord(part)) throw fieldError(field, 'must be an object');
  if (typeof part['text'] === 'string') return { text: part['text'], tokens: 0 };
  if (isRecord(part['inlineData']) || isRecord(part['fileData'])) {
    const data = isRecord(part['inlineData']) ? part['inlineData'] : (part['fileData'] as Record<string, unknown>);
    if (typeof data['mimeType'] !== 'string' || data['mimeType'] === '') throw fieldError(`${field}.${isRecord(part['inlineData']) ? 'inline_data' : 'file_data'}.mime_type`, 'mime_type is required');
    return { text: JSON.stringify(data['fileUri'] ?? String(data['data']).slice(0, 64)), tokens: MEDIA_PART_TOKENS };
  }
  if (isRecord(part['functionCall'])) {
    const name = part['functionCall']['name'];
    if (typeof name !== 'string' || name === '') throw fieldError(`${field}.function_call.name`, 'Name cannot be empty.');
    return { text: JSON.stringify(part['functionCall']), tokens: 0, functionCall: name };
  }
  if (isRecord(part['functionResponse'])) {
    const name = part['functionResponse']['name'];
    if (typeof name !== 'string' || name === '') throw fieldError(`${field}.function_response.name`, 'Name cannot be empty.');
    return { text: JSON.stringify(part['functionResponse']), tokens: 0, functionResponse: name };
  }
  throw fieldError(field, 'required oneof field \'data\' must have one initialized field');
}

/** One content (or the system instruction): its summary for the cache and the seed, and what its parts call and answer. */
function summarizeContent(content: unknown, field: string, role: string): { summary: MessageSummary; tokens: number; calls: string[]; responses: string[]; signed: boolean } {
  if (!isRecord(content)) throw fieldError(field, 'must be an object');
  const parts = content['parts'];
  if (!Array.isArray(parts) || parts.length === 0) throw fieldError(`${field}.parts`, 'contents.parts must not be empty.');
  const summaries = parts.map((part, index) => summarizePart(part, `${field}.parts[${index}]`));
  const text = summaries.map((part) => part.text).join('');
  const firstCall = parts.find((part) => isRecord(part) && isRecord(part['functionCall']));
  return {
    summary: { role, key: JSON.stringify([role, parts]), text, hasToolCalls: summaries.some((part) => part.functionCall !== undefined) },
    tokens: summaries.reduce((sum, part) => sum + part.tokens, 0),
    calls: summaries.flatMap((part) => (part.functionCall === undefined ? [] : [part.functionCall])),
    responses: summaries.flatMap((part) => (part.functionResponse === undefined ? [] : [part.functionResponse])),
    signed: isRecord(firstCall) && typeof firstCall['thoughtSignature'] === 'string' && firstCall['thoughtSignature'] !== '',
  };
}

function functionDeclarations(body: Record<string, unknown>): ChatTool[] {
  const tools = body['tools'];
  if (tools === undefined || tools === null) return [];
  if (!Array.isArray(tools)) throw fieldError('tools', 'must be a list');
  return tools.flatMap((tool, toolIndex): ChatTool[] => {
    const declarations = isRecord(tool) ? tool['functionDeclarations'] : undefined;
    if (!Array.isArray(declarations)) return [];
    return declarations.map((declaration, index) => {
      const field = `tools[${toolIndex}].function_declarations[${index}]`;
      if (!isRecord(declaration) || typeof declaration['name'] !== 'string' || declaration['name'] === '') throw fieldError(`${field}.name`, 'Name cannot be empty.');
      if (declaration['parameters'] !== undefined && declaration['parametersJsonSchema'] !== undefined) {
        throw fieldError(`${field}.parameters`, 'parameters and parameters_json_schema are mutually exclusive.');
      }
      return { name: declaration['name'], parameters: declaration['parametersJsonSchema'] ?? declaration['parameters'] };
    });
  });
}

/**
 * The function to call, as Gemini's function calling config says: NONE never; ANY always (the first allowed name,
 * else the first declared); AUTO (the default) the first declared, except right after function responses, when the
 * model answers what it learnt.
 */
function selectFunction(body: Record<string, unknown>, tools: readonly ChatTool[], endsWithResponse: boolean): ChatTool | undefined {
  const config = isRecord(body['toolConfig']) && isRecord(body['toolConfig']['functionCallingConfig']) ? body['toolConfig']['functionCallingConfig'] : {};
  const mode = config['mode'] ?? 'AUTO';
  if (mode !== 'AUTO' && mode !== 'ANY' && mode !== 'NONE' && mode !== 'VALIDATED') {
    throw fieldError('tool_config.function_calling_config.mode', `Invalid value ${JSON.stringify(mode)}`);
  }
  const allowed = Array.isArray(config['allowedFunctionNames']) ? config['allowedFunctionNames'] : undefined;
  if (allowed !== undefined && mode !== 'ANY') {
    throw fieldError('tool_config.function_calling_config.allowed_function_names', 'allowed_function_names is only allowed when mode is ANY.');
  }
  if (tools.length === 0 || mode === 'NONE') return undefined;
  if (mode === 'ANY') {
    const name = allowed?.[0];
    const chosen = name === undefined ? tools[0] : tools.find((tool) => tool.name === name);
    if (chosen === undefined) throw fieldError('tool_config.function_calling_config.allowed_function_names', `Function ${String(name)} is not declared.`);
    return chosen;
  }
  return endsWithResponse ? undefined : tools[0];
}

function responseFormatOf(config: Record<string, unknown>): ResponseFormat {
  const mimeType = config['responseMimeType'];
  const schema = config['responseJsonSchema'] ?? config['responseSchema'];
  if (schema !== undefined && mimeType !== 'application/json') {
    throw fieldError('generation_config.response_mime_type', 'response_mime_type must be application/json when a response schema is set.');
  }
  if (mimeType === 'application/json') return schema === undefined ? { type: 'json_object' } : { type: 'json_schema', schema };
  return { type: 'text' };
}

function optionalInteger(config: Record<string, unknown>, name: string, field: string, minimum: number, maximum: number): number | undefined {
  const value = config[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum || value > maximum) {
    throw fieldError(`generation_config.${field}`, `must be an integer between ${minimum} and ${maximum}`);
  }
  return value;
}

/**
 * Validates a generateContent request the way the Gemini API does, naming the bad field as
 * `* GenerateContentRequest.path: problem`: contents present, roles user or model, parts of one kind each, every
 * function response right after the call it answers, and (for gemini-3 and later) a thought signature on the first
 * replayed function call of a turn.
 */
export function parseGeminiRequest(body: Record<string, unknown>, model: ResolvedModel): GeminiRequest {
  const contents = body['contents'];
  if (!Array.isArray(contents) || contents.length === 0) throw fieldError('contents', 'contents is not specified');
  const messages: MessageSummary[] = [];
  let mediaTokens = 0;
  const system = body['systemInstruction'];
  if (system !== undefined && system !== null) {
    const summarized = summarizeContent(system, 'system_instruction', 'system');
    messages.push(summarized.summary);
    mediaTokens += summarized.tokens;
  }
  let previousCalls: string[] = [];
  let endsWithResponse = false;
  contents.forEach((content, index) => {
    const role = isRecord(content) ? (content['role'] ?? 'user') : 'user';
    if (role !== 'user' && role !== 'model') throw fieldError(`contents[${index}].role`, 'Please use a valid role: user, model.');
    const summarized = summarizeContent(content, `contents[${index}]`, role);
    for (const name of summarized.responses) {
      if (!previousCalls.includes(name)) {
        throw invalidRequestError('Please ensure that function response turn comes immediately after a function call turn, and that it answers a function the call named.');
      }
    }
    if (summarized.calls.length > 0 && !summarized.signed && checksThoughtSignatures(model.id)) {
      throw invalidRequestError(`Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly. Additional data, function call \`default_api:${summarized.calls[0]}\` , position ${index + 1}.`);
    }
    previousCalls = summarized.calls;
    endsWithResponse = summarized.responses.length > 0;
    messages.push(summarized.summary);
    mediaTokens += summarized.tokens;
  });
  const tools = functionDeclarations(body);
  const characters = messages.reduce((sum, message) => sum + message.text.length, 0) + (tools.length > 0 ? JSON.stringify(tools).length : 0);
  const promptTokens = estimateTokens(characters) + TOKENS_PER_MESSAGE * messages.length + mediaTokens;
  if (promptTokens > model.contextWindow) {
    throw invalidRequestError(`The input token count (${promptTokens}) exceeds the maximum number of tokens allowed (${model.contextWindow}).`);
  }
  const config = isRecord(body['generationConfig']) ? body['generationConfig'] : {};
  const thinking = isRecord(config['thinkingConfig']) ? config['thinkingConfig'] : {};
  const thinkingBudget = optionalInteger(thinking, 'thinkingBudget', 'thinking_config.thinking_budget', -1, MAXIMUM_OUTPUT_TOKENS);
  return {
    model,
    promptKey: messages.map((message) => message.key).join('\u0002'),
    messages,
    promptTokens,
    candidateCount: optionalInteger(config, 'candidateCount', 'candidate_count', 1, MAXIMUM_CANDIDATES) ?? 1,
    maximumTokens: optionalInteger(config, 'maxOutputTokens', 'max_output_tokens', 1, MAXIMUM_OUTPUT_TOKENS),
    toolToCall: selectFunction(body, tools, endsWithResponse),
    responseFormat: responseFormatOf(config),
    // -1 asks for a dynamic budget: the model's outputTokens.
    thinkingBudget: thinkingBudget === undefined || thinkingBudget === 0 ? undefined : thinkingBudget === -1 ? model.outputTokens : thinkingBudget,
  };
}
