import type { ResolvedModel } from '../../config/parse-simulator-options.js';
import { invalidRequestError } from '../../http/http-error.js';
import { isRecord } from '../../json-value.js';
import { parseChatRequest, type ChatRequest } from '../chat/chat-request.js';
import { requireModel } from '../request-fields.js';

/**
 * A Responses request (`POST /v1/responses`) read as the chat request it amounts to: `instructions` a system message,
 * `input` the messages (function calls an assistant's tool calls, their outputs tool messages), function tools,
 * `tool_choice`, `text.format` and `max_output_tokens` as Chat's. The answer is then the chat endpoint's for the same
 * conversation, so a Chat and a Responses deployment of one model agree. Responses' own fields are checked first, and
 * named as OpenAI names them (`input[1].type`).
 */
export function parseResponsesRequest(body: Record<string, unknown>, models: ReadonlyMap<string, ResolvedModel>): ChatRequest {
  requireModel(body, models);
  const input = body['input'];
  if (input === undefined || input === null) {
    throw invalidRequestError("Missing required parameter: 'input'.", 'input', 'missing_required_parameter');
  }
  const messages: Record<string, unknown>[] = [];
  if (typeof body['instructions'] === 'string' && body['instructions'] !== '') {
    messages.push({ role: 'system', content: body['instructions'] });
  }
  if (typeof input === 'string') {
    messages.push({ role: 'user', content: input });
  } else if (Array.isArray(input) && input.length > 0) {
    input.forEach((item, index) => addItem(messages, item, `input[${index}]`));
  } else {
    throw invalidRequestError("Invalid 'input': expected a string or a non-empty array of items.", 'input', 'invalid_value');
  }
  const chat: Record<string, unknown> = { model: body['model'], messages, stream: body['stream'] === true };
  const tools = body['tools'];
  if (Array.isArray(tools)) {
    chat['tools'] = tools.map((tool, index) => {
      if (!isRecord(tool) || tool['type'] !== 'function') {
        throw invalidRequestError(`Invalid value for 'tools[${index}].type': the simulator serves function tools only.`, `tools[${index}].type`, 'invalid_value');
      }
      return { type: 'function', function: { name: tool['name'], parameters: tool['parameters'] } };
    });
  }
  const choice = body['tool_choice'];
  if (isRecord(choice) && choice['type'] === 'function') chat['tool_choice'] = { type: 'function', function: { name: choice['name'] } };
  else if (typeof choice === 'string') chat['tool_choice'] = choice;
  const format = isRecord(body['text']) ? body['text']['format'] : undefined;
  if (isRecord(format) && format['type'] === 'json_schema') chat['response_format'] = { type: 'json_schema', json_schema: { schema: format['schema'] } };
  else if (isRecord(format) && format['type'] === 'json_object') chat['response_format'] = { type: 'json_object' };
  if (body['max_output_tokens'] !== undefined) chat['max_completion_tokens'] = body['max_output_tokens'];
  // Responses always reports usage; the chat request's stream asks for it too.
  if (chat['stream'] === true) chat['stream_options'] = { include_usage: true };
  return parseChatRequest(chat, models);
}

function addItem(messages: Record<string, unknown>[], item: unknown, param: string): void {
  if (!isRecord(item)) throw invalidRequestError(`Invalid '${param}': expected an object.`, param, 'invalid_type');
  const type = item['type'] ?? 'message';
  switch (type) {
    case 'message': {
      const content = item['content'];
      const parts = Array.isArray(content)
        ? content.map((part) => (isRecord(part) && typeof part['text'] === 'string' ? { type: 'text', text: part['text'] } : isRecord(part) && typeof part['image_url'] === 'string' ? { type: 'image_url', image_url: { url: part['image_url'] } } : { type: 'text', text: '' }))
        : content;
      messages.push({ role: item['role'], content: parts });
      return;
    }
    case 'function_call': {
      const call = { id: item['call_id'], type: 'function', function: { name: item['name'], arguments: item['arguments'] } };
      const last = messages[messages.length - 1];
      if (last !== undefined && last['role'] === 'assistant') last['tool_calls'] = [...((last['tool_calls'] as unknown[] | undefined) ?? []), call];
      else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
      return;
    }
    case 'function_call_output':
      messages.push({ role: 'tool', tool_call_id: item['call_id'], content: typeof item['output'] === 'string' ? item['output'] : JSON.stringify(item['output']) });
      return;
    case 'reasoning':
      return;
    default:
      throw invalidRequestError(`Invalid value for '${param}.type': ${JSON.stringify(type)} is not an input item the simulator knows.`, `${param}.type`, 'invalid_value');
  }
}
