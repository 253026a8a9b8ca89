import { tokenCount } from '../usage/token-usage.js';
import { invalidRequest, isRecord, type GatewayError } from '@dosrouter/shared';
import { maxTokensOf, stringAt } from './chat-request-parts.js';

/**
 * Chat Completions → Responses, for a chat completion (or a Messages request's Chat translation) routed to an `api:
 * responses` deployment, and the answer back. Pure: no I/O, no clock (the caller passes `created`). What the Responses
 * API cannot express is refused with a 400 naming the field (the request then fails over) or dropped, as
 * docs/protocols.md lists.
 */

type Item = Record<string, unknown>;

/** The Responses request for a Chat Completions body, for the deployment's model. */
export function toResponsesRequest(body: Record<string, unknown>, stream: boolean, model: string): Record<string, unknown> {
  refuseUntranslatable(body);
  const input: Item[] = [];
  (body.messages as unknown[]).forEach((message, index) => input.push(...itemsOf(message, `messages[${index}]`)));
  const request: Record<string, unknown> = { model, input, store: body.store === true };
  const maxTokens = maxTokensOf(body);
  if (maxTokens !== undefined) request.max_output_tokens = maxTokens;
  for (const field of ['temperature', 'top_p', 'parallel_tool_calls', 'user', 'safety_identifier', 'prompt_cache_key', 'service_tier', 'metadata'] as const) {
    if (body[field] !== undefined && body[field] !== null) request[field] = body[field];
  }
  if (Array.isArray(body.tools) && body.tools.length > 0) {
    request.tools = body.tools.map(responsesTool);
    if (body.tool_choice !== undefined && body.tool_choice !== null) request.tool_choice = responsesToolChoice(body.tool_choice);
  }
  const text: Record<string, unknown> = {};
  const format = body.response_format;
  if (isRecord(format) && format.type === 'json_object') text.format = { type: 'json_object' };
  if (isRecord(format) && format.type === 'json_schema' && isRecord(format.json_schema)) text.format = { type: 'json_schema', ...format.json_schema };
  if (typeof body.verbosity === 'string') text.verbosity = body.verbosity;
  if (Object.keys(text).length > 0) request.text = text;
  if (typeof body.reasoning_effort === 'string') request.reasoning = { effort: body.reasoning_effort };
  if (stream) request.stream = true;
  return request;
}

/** What the Responses API has no way to say: refused, not silently changed. */
function refuseUntranslatable(body: Record<string, unknown>): void {
  if (typeof body.n === 'number' && body.n > 1) throw untranslatable('`n` greater than 1 (a Response is one answer)', 'n');
  if (body.stop !== undefined && body.stop !== null) throw untranslatable('`stop` (the Responses API has no stop sequences)', 'stop');
  if (body.logprobs === true || typeof body.top_logprobs === 'number') throw untranslatable('`logprobs`', 'logprobs');
  if (Array.isArray(body.modalities) && body.modalities.some((modality) => modality !== 'text')) throw untranslatable('output modalities other than text', 'modalities');
}

function untranslatable(what: string, param: string): GatewayError {
  return invalidRequest(`${what} cannot be sent to a Responses API deployment.`, param, 'unsupported_by_deployment');
}

/** One Chat message as Responses input items: a message, or an assistant's text and function calls, or a call's output. */
function itemsOf(message: unknown, param: string): Item[] {
  if (!isRecord(message)) throw invalidRequest(`\`${param}\` must be an object.`, param, 'invalid_type');
  switch (message.role) {
    case 'system':
    case 'developer':
    case 'user':
      return [{ role: message.role, content: inputContent(message.content, `${param}.content`) }];
    case 'assistant': {
      const items: Item[] = [];
      const text = textOf(message.content);
      if (text !== '') items.push({ role: 'assistant', content: text });
      if (Array.isArray(message.tool_calls)) {
        message.tool_calls.forEach((call: unknown, index) => {
          const callParam = `${param}.tool_calls[${index}]`;
          if (!isRecord(call) || !isRecord(call.function)) throw invalidRequest(`\`${callParam}\` must be a function call.`, callParam, 'invalid_type');
          items.push({ type: 'function_call', call_id: stringAt(call.id, `${callParam}.id`), name: stringAt(call.function.name, `${callParam}.function.name`), arguments: typeof call.function.arguments === 'string' ? call.function.arguments : '{}' });
        });
      }
      return items;
    }
    case 'tool':
      return [{ type: 'function_call_output', call_id: stringAt(message.tool_call_id, `${param}.tool_call_id`), output: textOf(message.content) }];
    default:
      throw untranslatable(`A message of role ${String(message.role)}`, `${param}.role`);
  }
}

/** A user, system or developer message's content: a string, or Responses input parts. */
function inputContent(content: unknown, param: string): string | Item[] {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part: unknown, index) => {
    const partParam = `${param}[${index}]`;
    if (!isRecord(part)) throw invalidRequest(`\`${partParam}\` must be a content part.`, partParam, 'invalid_type');
    switch (part.type) {
      case 'text':
        return { type: 'input_text', text: stringAt(part.text, `${partParam}.text`) };
      case 'image_url': {
        const image = isRecord(part.image_url) ? part.image_url : {};
        return { type: 'input_image', image_url: stringAt(image.url, `${partParam}.image_url.url`), detail: typeof image.detail === 'string' ? image.detail : 'auto' };
      }
      case 'file': {
        const file = isRecord(part.file) ? part.file : {};
        const item: Item = { type: 'input_file' };
        for (const field of ['file_data', 'file_id', 'filename'] as const) if (typeof file[field] === 'string') item[field] = file[field];
        return item;
      }
      default:
        throw untranslatable(`A content part of type ${String(part.type)}`, `${partParam}.type`);
    }
  });
}

function responsesTool(tool: unknown, index: number): Item {
  if (!isRecord(tool) || tool.type !== 'function' || !isRecord(tool.function)) throw untranslatable('A tool that is not a function', `tools[${index}]`);
  const definition = tool.function;
  return {
    type: 'function',
    name: stringAt(definition.name, `tools[${index}].function.name`),
    ...(typeof definition.description === 'string' ? { description: definition.description } : {}),
    parameters: isRecord(definition.parameters) ? definition.parameters : { type: 'object', properties: {} },
    // The Responses API makes a function strict unless told otherwise; Chat's default is not strict.
    strict: definition.strict === true,
  };
}

function responsesToolChoice(choice: unknown): unknown {
  if (choice === 'none' || choice === 'auto' || choice === 'required') return choice;
  if (isRecord(choice) && isRecord(choice.function)) return { type: 'function', name: stringAt(choice.function.name, 'tool_choice.function.name') };
  throw invalidRequest('`tool_choice` must be none, auto, required or a function.', 'tool_choice', 'invalid_value');
}

/** Text content as a string: a string, or the text of an array of text parts. */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) return '';
  return (value as unknown[]).map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : '')).join('');
}

// ── The answer ──────────────────────────────────────────────────────────────────────────────────────────────────────

/** Responses usage as Chat usage: the same counts under Chat's names, cached and reasoning tokens included. */
export function chatUsageOfResponse(usage: unknown): Record<string, unknown> {
  const record = isRecord(usage) ? usage : {};
  const input = tokenCount(record.input_tokens);
  const output = tokenCount(record.output_tokens);
  const inputDetails = isRecord(record.input_tokens_details) ? record.input_tokens_details : {};
  const outputDetails = isRecord(record.output_tokens_details) ? record.output_tokens_details : {};
  return {
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: input + output,
    prompt_tokens_details: { cached_tokens: tokenCount(inputDetails.cached_tokens) },
    completion_tokens_details: { reasoning_tokens: tokenCount(outputDetails.reasoning_tokens) },
  };
}

/** A Response's status (and why it is incomplete) as a Chat `finish_reason`; tool calls make it `tool_calls`. */
export function finishReasonOfResponse(response: Record<string, unknown>, calledTools: boolean): string {
  const reason = isRecord(response.incomplete_details) ? response.incomplete_details.reason : undefined;
  if (reason === 'max_output_tokens') return 'length';
  if (reason === 'content_filter') return 'content_filter';
  return calledTools ? 'tool_calls' : 'stop';
}

/**
 * A whole Response as a `chat.completion`: its messages' text joined as `content`, refusals as `refusal`, reasoning
 * items' text as `reasoning_content`, function calls as tool calls (their `call_id` the call's id). Undefined when it
 * is not a Response, or one that failed.
 */
export function responseToChatCompletion(response: unknown, created: number): Record<string, unknown> | undefined {
  if (!isRecord(response) || response.object !== 'response' || !Array.isArray(response.output) || response.status === 'failed') return undefined;
  let text: string | null = null;
  let refusal: string | null = null;
  let reasoning: string | undefined;
  const toolCalls: Record<string, unknown>[] = [];
  for (const item of response.output as unknown[]) {
    if (!isRecord(item)) continue;
    if (item.type === 'message' && Array.isArray(item.content)) {
      for (const part of item.content as unknown[]) {
        if (isRecord(part) && part.type === 'output_text' && typeof part.text === 'string') text = (text ?? '') + part.text;
        if (isRecord(part) && part.type === 'refusal' && typeof part.refusal === 'string') refusal = (refusal ?? '') + part.refusal;
      }
    } else if (item.type === 'reasoning') {
      const parts = [...(Array.isArray(item.content) ? item.content : []), ...(Array.isArray(item.summary) ? item.summary : [])] as unknown[];
      const said = textOf(parts);
      if (said !== '') reasoning = (reasoning ?? '') + said;
    } else if (item.type === 'function_call') {
      toolCalls.push({ id: item.call_id, type: 'function', function: { name: item.name, arguments: item.arguments } });
    }
  }
  const message: Record<string, unknown> = { role: 'assistant', content: text, refusal };
  if (reasoning !== undefined) message.reasoning_content = reasoning;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return {
    id: response.id,
    object: 'chat.completion',
    created,
    model: response.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReasonOfResponse(response, toolCalls.length > 0) }],
    usage: chatUsageOfResponse(response.usage),
  };
}
