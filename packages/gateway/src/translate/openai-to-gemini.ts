import { invalidRequest, isRecord, type GatewayError } from '@dosrouter/shared';
import { callArguments, maxTokensOf, parseDataUrl, stringAt, userContentParts } from './chat-request-parts.js';
import type {
  GeminiContent,
  GeminiFunctionDeclaration,
  GeminiGenerationConfig,
  GeminiPart,
  GeminiToolConfig,
  GenerateContentRequest,
} from './gemini-types.js';

/**
 * Chat Completions → Gemini `generateContent`, for a `/v1/chat/completions` request routed to a `kind: gemini`
 * deployment (the answer back: openai-to-gemini-answer.ts and openai-to-gemini-stream.ts). Pure: no I/O, no clock.
 * Every field that Gemini cannot express is either refused with a 400 naming it or dropped, as docs/protocols.md lists.
 */

export interface GeminiTranslationOptions {
  /** The backend's model id: decides whether replayed function calls need a thought signature (Gemini 3 and later). */
  readonly model: string;
}

/** Thinking budgets for `reasoning_effort`; `none` turns thinking off where the model allows it. */
export const GEMINI_THINKING_BUDGETS: Readonly<Record<string, number>> = { none: 0, minimal: 128, low: 1_024, medium: 8_192, high: 24_576 };

/**
 * What Google documents for a replayed function call whose thought signature the client never had (a Chat
 * Completions client cannot carry one): Gemini 3 and later refuse such a call without it.
 */
export const SKIP_THOUGHT_SIGNATURE = 'skip_thought_signature_validator';

/** Media types of a URL's file extension, for an http(s) image URL sent as `fileData` (Gemini wants a mimeType). */
const MEDIA_TYPES_BY_EXTENSION: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
};

export function toGeminiRequest(body: Record<string, unknown>, options: GeminiTranslationOptions): GenerateContentRequest {
  refuseUntranslatable(body);
  const { system, contents } = translateMessages(body.messages as unknown[], needsThoughtSignature(options.model));
  const request: GenerateContentRequest = { contents };
  if (system.length > 0) request.systemInstruction = { parts: system };
  const tools = translateTools(body.tools);
  if (tools) {
    request.tools = [{ functionDeclarations: tools }];
    const toolConfig = translateToolChoice(body.tool_choice);
    if (toolConfig) request.toolConfig = toolConfig;
  }
  const generationConfig = translateGenerationConfig(body);
  if (Object.keys(generationConfig).length > 0) request.generationConfig = generationConfig;
  return request;
}

/** `gemini-3…`, `gemini-4-…`: the models that check thought signatures on replayed function calls. */
function needsThoughtSignature(model: string): boolean {
  const major = /(?:^|\/)gemini-(\d+)/.exec(model)?.[1];
  return major !== undefined && Number(major) >= 3;
}

/** What Gemini has no way to say: refused, not silently changed. */
function refuseUntranslatable(body: Record<string, unknown>): void {
  if (body.logprobs === true || typeof body.top_logprobs === 'number') throw untranslatable('`logprobs`', 'logprobs');
  if (Array.isArray(body.modalities) && body.modalities.some((modality) => modality !== 'text')) {
    throw untranslatable('output modalities other than text', 'modalities');
  }
  if (isRecord(body.logit_bias) && Object.keys(body.logit_bias).length > 0) throw untranslatable('`logit_bias`', 'logit_bias');
}

function untranslatable(what: string, param: string): GatewayError {
  return invalidRequest(`${what} cannot be sent to a native Gemini deployment.`, param, 'unsupported_by_deployment');
}

function translateGenerationConfig(body: Record<string, unknown>): GeminiGenerationConfig {
  const config: GeminiGenerationConfig = {};
  const stop = body.stop;
  if (typeof stop === 'string') config.stopSequences = [stop];
  else if (Array.isArray(stop) && stop.length > 0) config.stopSequences = stop.map((value, index) => stringAt(value, `stop[${index}]`));
  const format = body.response_format;
  if (isRecord(format) && format.type === 'json_object') config.responseMimeType = 'application/json';
  else if (isRecord(format) && format.type === 'json_schema') {
    const schema = isRecord(format.json_schema) ? format.json_schema.schema : undefined;
    if (!isRecord(schema)) throw invalidRequest('`response_format.json_schema.schema` must be a JSON Schema object.', 'response_format.json_schema.schema', 'invalid_value');
    config.responseMimeType = 'application/json';
    config.responseJsonSchema = schema;
  } else if (isRecord(format) && format.type !== undefined && format.type !== 'text') {
    throw untranslatable(`\`response_format\` of type ${String(format.type)}`, 'response_format');
  }
  if (typeof body.n === 'number' && body.n > 1) config.candidateCount = body.n;
  const maxTokens = maxTokensOf(body);
  if (maxTokens !== undefined) config.maxOutputTokens = maxTokens;
  if (typeof body.temperature === 'number') config.temperature = body.temperature;
  if (typeof body.top_p === 'number') config.topP = body.top_p;
  if (typeof body.seed === 'number') config.seed = body.seed;
  if (typeof body.presence_penalty === 'number' && body.presence_penalty !== 0) config.presencePenalty = body.presence_penalty;
  if (typeof body.frequency_penalty === 'number' && body.frequency_penalty !== 0) config.frequencyPenalty = body.frequency_penalty;
  const budget = typeof body.reasoning_effort === 'string' ? GEMINI_THINKING_BUDGETS[body.reasoning_effort] : undefined;
  if (budget !== undefined) config.thinkingConfig = { thinkingBudget: budget };
  return config;
}

/**
 * System and developer messages become `systemInstruction` parts, wherever they stood. The others become contents:
 * user → `user`, assistant → `model` (its tool calls as functionCall parts), tool → a `user` content's
 * functionResponse, named after the call it answers. Consecutive contents of one role are merged.
 */
function translateMessages(input: readonly unknown[], signCalls: boolean): { system: GeminiPart[]; contents: GeminiContent[] } {
  const system: GeminiPart[] = [];
  const contents: GeminiContent[] = [];
  /** Tool call id → function name, from the assistant messages read so far. */
  const callNames = new Map<string, string>();
  const append = (role: 'user' | 'model', parts: GeminiPart[]): void => {
    if (parts.length === 0) return;
    const last = contents[contents.length - 1];
    if (last?.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  input.forEach((value, index) => {
    const message = value as Record<string, unknown>;
    const param = `messages[${index}]`;
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...textParts(message.content, `${param}.content`));
        return;
      case 'user':
        append('user', userParts(message.content, `${param}.content`));
        return;
      case 'assistant':
        append('model', modelParts(message, param, callNames, signCalls));
        return;
      case 'tool':
        append('user', [functionResponse(message, param, callNames)]);
        return;
      default:
        throw untranslatable(`A message with role ${String(message.role)}`, `${param}.role`);
    }
  });
  return { system, contents };
}

/** Text parts only (system, developer and tool messages); an empty text is left out. */
function textParts(content: unknown, param: string): GeminiPart[] {
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  if (content === undefined || content === null) return [];
  return (content as unknown[]).flatMap((part, index) => {
    const translated = contentPart(part, `${param}[${index}]`);
    if (translated === undefined) return [];
    if (translated.text === undefined) throw untranslatable('A part other than text in this message', `${param}[${index}]`);
    return [translated];
  });
}

function userParts(content: unknown, param: string): GeminiPart[] {
  return userContentParts<GeminiPart>(content, param, (text) => ({ text }), contentPart);
}

/**
 * One content part: text; an image (a data URL as inlineData, an http(s) URL as fileData with the media type its
 * extension names); audio (inlineData); a file given as a data URL (inlineData).
 */
function contentPart(part: unknown, param: string): GeminiPart | undefined {
  if (!isRecord(part)) throw invalidRequest(`\`${param}\` must be an object.`, param, 'invalid_type');
  switch (part.type) {
    case 'text': {
      const text = stringAt(part.text, `${param}.text`);
      return text === '' ? undefined : { text };
    }
    case 'image_url': {
      const url = stringAt(isRecord(part.image_url) ? part.image_url.url : undefined, `${param}.image_url.url`);
      return imagePart(url, `${param}.image_url.url`);
    }
    case 'input_audio': {
      const audio = isRecord(part.input_audio) ? part.input_audio : {};
      const format = stringAt(audio.format, `${param}.input_audio.format`);
      return { inlineData: { mimeType: `audio/${format}`, data: stringAt(audio.data, `${param}.input_audio.data`) } };
    }
    case 'file': {
      const data = isRecord(part.file) ? part.file.file_data : undefined;
      const parsed = typeof data === 'string' ? parseDataUrl(data) : undefined;
      if (!parsed) throw untranslatable('A file part other than one given as a base64 data URL (`file_data`)', `${param}.file`);
      return { inlineData: { mimeType: parsed.mediaType, data: parsed.data } };
    }
    case 'refusal':
      // An earlier assistant turn's refusal: Gemini has no part for it.
      return undefined;
    default:
      throw untranslatable(`A content part of type ${String(part.type)}`, `${param}.type`);
  }
}

function imagePart(url: string, param: string): GeminiPart {
  if (url.startsWith('data:')) {
    const parsed = parseDataUrl(url);
    if (!parsed) throw invalidRequest(`\`${param}\` is not a base64 data URL.`, param, 'invalid_value');
    return { inlineData: { mimeType: parsed.mediaType, data: parsed.data } };
  }
  if (!/^https?:\/\//i.test(url)) throw invalidRequest(`\`${param}\` must be an http(s) URL or a base64 data URL.`, param, 'invalid_value');
  // Gemini fetches a public URL given as fileData, but wants its media type said: taken from the path's extension.
  let extension: string | undefined;
  try {
    extension = /\.([A-Za-z0-9]+)$/.exec(new URL(url).pathname)?.[1]?.toLowerCase();
  } catch {
    throw invalidRequest(`\`${param}\` is not a valid URL.`, param, 'invalid_value');
  }
  const mimeType = extension === undefined ? undefined : MEDIA_TYPES_BY_EXTENSION[extension];
  if (mimeType === undefined) {
    throw untranslatable('An image URL whose media type its file extension does not name (send it as a data URL)', param);
  }
  return { fileData: { mimeType, fileUri: url } };
}

function modelParts(message: Record<string, unknown>, param: string, callNames: Map<string, string>, signCalls: boolean): GeminiPart[] {
  // A refusal or reasoning text has no part a request may carry: dropped.
  const parts: GeminiPart[] = textParts(message.content, `${param}.content`);
  const calls = message.tool_calls;
  if (calls === undefined || calls === null) return parts;
  if (!Array.isArray(calls)) throw invalidRequest(`\`${param}.tool_calls\` must be an array.`, `${param}.tool_calls`, 'invalid_type');
  calls.forEach((call: unknown, index) => {
    const callParam = `${param}.tool_calls[${index}]`;
    if (!isRecord(call) || !isRecord(call.function)) throw invalidRequest(`\`${callParam}\` must be a function call.`, callParam, 'invalid_type');
    const name = stringAt(call.function.name, `${callParam}.function.name`);
    callNames.set(stringAt(call.id, `${callParam}.id`), name);
    const part: GeminiPart = { functionCall: { name, args: callArguments(call.function.arguments, `${callParam}.function.arguments`) } };
    // Only the first call of a turn carries a signature, as Gemini's own parallel calls do.
    if (signCalls && index === 0) part.thoughtSignature = SKIP_THOUGHT_SIGNATURE;
    parts.push(part);
  });
  return parts;
}

/** A tool message as the functionResponse of the call it answers (Gemini names it by the function's name). */
function functionResponse(message: Record<string, unknown>, param: string, callNames: ReadonlyMap<string, string>): GeminiPart {
  const id = stringAt(message.tool_call_id, `${param}.tool_call_id`);
  const name = callNames.get(id);
  if (name === undefined) {
    throw invalidRequest(`\`${param}.tool_call_id\` names no tool call of an earlier assistant message.`, `${param}.tool_call_id`, 'invalid_value');
  }
  const content = textParts(message.content, `${param}.content`)
    .map((part) => part.text)
    .join('');
  return { functionResponse: { name, response: { content } } };
}

function translateTools(tools: unknown): GeminiFunctionDeclaration[] | undefined {
  if (!Array.isArray(tools) || tools.length === 0) return undefined;
  return tools.map((tool: unknown, index) => {
    const param = `tools[${index}]`;
    if (!isRecord(tool) || tool.type !== 'function' || !isRecord(tool.function)) throw untranslatable('A tool that is not a function', param);
    const definition = tool.function;
    const declaration: GeminiFunctionDeclaration = { name: stringAt(definition.name, `${param}.function.name`) };
    if (typeof definition.description === 'string') declaration.description = definition.description;
    if (isRecord(definition.parameters)) declaration.parametersJsonSchema = definition.parameters;
    return declaration;
  });
}

function translateToolChoice(choice: unknown): GeminiToolConfig | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  if (isRecord(choice) && isRecord(choice.function)) {
    return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [stringAt(choice.function.name, 'tool_choice.function.name')] } };
  }
  throw invalidRequest('`tool_choice` must be none, auto, required or a function.', 'tool_choice', 'invalid_value');
}
