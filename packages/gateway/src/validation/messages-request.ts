import { invalidRequest, isRecord } from '@dosrouter/shared';
import { messagesToChat } from '../translate/anthropic-to-openai.js';
import type { MessageCreateParams } from '../translate/anthropic-types.js';
import { checkEstimateFields, MAX_COMPLETION_TOKENS } from './estimate-fields.js';
import { requireModel, type ProxiedRequest } from './request-fields.js';

/**
 * Checks a Messages request (`POST /v1/messages`) as far as the gateway relies on it, so that its Chat translation
 * is total, and answers what is wrong as Anthropic does: `messages.1.content.0.source.media_type: …` (the error
 * handler gives it Anthropic's shape). The backend validates the rest. The result carries the request as sent and its
 * Chat translation, which routing (the classifier, capability filters), limits and usage estimates read.
 */
export function validateMessagesRequest(body: Record<string, unknown>): ProxiedRequest {
  checkMessagesFields(body, true);
  for (const field of ['temperature', 'top_p'] as const) {
    const value = body[field];
    if (value !== undefined && (typeof value !== 'number' || value < 0 || value > 1)) fail(field, 'must be a number from 0 to 1');
  }
  if (body.top_k !== undefined && (typeof body.top_k !== 'number' || !Number.isInteger(body.top_k) || body.top_k < 0)) fail('top_k', 'must be a whole number');
  if (body.stop_sequences !== undefined && (!Array.isArray(body.stop_sequences) || !body.stop_sequences.every((entry) => typeof entry === 'string'))) {
    fail('stop_sequences', 'must be an array of strings');
  }
  if (body.metadata !== undefined) {
    if (!isRecord(body.metadata)) fail('metadata', 'must be an object');
    const user = body.metadata.user_id;
    if (user !== undefined && user !== null && typeof user !== 'string') fail('metadata.user_id', 'must be a string');
  }
  if (body.stream !== undefined && typeof body.stream !== 'boolean') fail('stream', 'must be a boolean');
  const messages = body as unknown as MessageCreateParams;
  // Rules match the request's `metadata` as they do a chat request's; it is not sent to a Chat backend (messages-ingress).
  const chat = { ...messagesToChat(messages), ...(messages.metadata ? { metadata: messages.metadata } : {}) };
  checkEstimateFields(chat);
  const user = messages.metadata?.user_id;
  return { body: chat, model: messages.model, stream: messages.stream === true, includeUsage: false, messages, ...(typeof user === 'string' && user !== '' ? { sessionId: user } : {}) };
}

/**
 * A token count request (`POST /v1/messages/count_tokens`): a Messages request without `max_tokens` and the
 * generation settings. Routed like one, to choose the deployment that counts.
 */
export function validateCountTokensRequest(body: Record<string, unknown>): ProxiedRequest {
  checkMessagesFields(body, false);
  const messages = body as unknown as MessageCreateParams;
  return { body: messagesToChat({ ...messages, stream: false }), model: messages.model, stream: false, includeUsage: false, messages };
}

/**
 * The fields a Messages request and a token count share (`model`, `messages`, `system`, `tools`, `tool_choice`,
 * `thinking`); `max_tokens` is required of a Messages request only.
 */
export function checkMessagesFields(body: Record<string, unknown>, requireMaxTokens: boolean): void {
  requireModel(body);
  const maxTokens = body.max_tokens;
  if (maxTokens === undefined ? requireMaxTokens : typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > MAX_COMPLETION_TOKENS) {
    fail('max_tokens', maxTokens === undefined ? 'Field required' : `must be an integer from 1 to ${MAX_COMPLETION_TOKENS}`);
  }
  if (!Array.isArray(body.messages)) fail('messages', body.messages === undefined ? 'Field required' : 'must be an array');
  if (body.messages.length === 0) fail('messages', 'at least one message is required');
  body.messages.forEach((message: unknown, index) => checkMessage(message, `messages.${index}`));
  checkSystem(body.system);
  checkTools(body.tools);
  checkToolChoice(body.tool_choice);
  checkThinking(body.thinking);
}

function checkMessage(message: unknown, path: string): void {
  if (!isRecord(message)) fail(path, 'must be an object');
  if (message.role !== 'user' && message.role !== 'assistant') fail(`${path}.role`, "must be 'user' or 'assistant'");
  const { content } = message;
  if (typeof content === 'string') return;
  if (!Array.isArray(content)) fail(`${path}.content`, content === undefined ? 'Field required' : 'must be a string or an array of content blocks');
  const allowed = message.role === 'user' ? USER_BLOCKS : ASSISTANT_BLOCKS;
  content.forEach((block: unknown, index) => checkBlock(block, `${path}.content.${index}`, allowed, message.role as string));
}

const USER_BLOCKS = new Set(['text', 'image', 'document', 'tool_result']);
const ASSISTANT_BLOCKS = new Set(['text', 'tool_use', 'thinking', 'redacted_thinking']);
const IMAGE_MEDIA_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

function checkBlock(block: unknown, path: string, allowed: ReadonlySet<string>, role: string): void {
  if (!isRecord(block)) fail(path, 'must be an object');
  const type = block.type;
  if (typeof type !== 'string') fail(`${path}.type`, 'Field required');
  if (!allowed.has(type)) {
    const known = USER_BLOCKS.has(type) || ASSISTANT_BLOCKS.has(type);
    fail(`${path}.type`, known ? `a ${type} block cannot be in a ${role} message` : `unsupported content block type '${type}' (one of ${[...allowed].join(', ')})`);
  }
  switch (type) {
    case 'text':
      requireString(block, 'text', path);
      return;
    case 'image':
      checkImageSource(block.source, `${path}.source`);
      return;
    case 'document':
      checkDocumentSource(block.source, `${path}.source`);
      return;
    case 'tool_use':
      requireString(block, 'id', path);
      requireString(block, 'name', path);
      if (!isRecord(block.input)) fail(`${path}.input`, 'must be an object');
      return;
    case 'tool_result':
      requireString(block, 'tool_use_id', path);
      if (block.content !== undefined && typeof block.content !== 'string') {
        if (!Array.isArray(block.content)) fail(`${path}.content`, 'must be a string or an array of content blocks');
        block.content.forEach((part: unknown, index) => checkBlock(part, `${path}.content.${index}`, TOOL_RESULT_BLOCKS, 'tool_result'));
      }
      if (block.is_error !== undefined && typeof block.is_error !== 'boolean') fail(`${path}.is_error`, 'must be a boolean');
      return;
    case 'thinking':
      requireString(block, 'thinking', path);
      requireString(block, 'signature', path);
      return;
    case 'redacted_thinking':
      requireString(block, 'data', path);
  }
}

const TOOL_RESULT_BLOCKS = new Set(['text', 'image', 'document']);

function checkImageSource(source: unknown, path: string): void {
  if (!isRecord(source)) fail(path, 'Field required');
  switch (source.type) {
    case 'base64':
      if (typeof source.media_type !== 'string' || !IMAGE_MEDIA_TYPES.has(source.media_type)) fail(`${path}.media_type`, `must be one of ${[...IMAGE_MEDIA_TYPES].join(', ')}`);
      requireString(source, 'data', path);
      return;
    default:
      checkReferenceSource(source, path, "'base64', 'url' or 'file'");
  }
}

/** A source by reference: a `url`, or a `file` uploaded to Anthropic's Files API. */
function checkReferenceSource(source: Record<string, unknown>, path: string, types: string): void {
  if (source.type === 'url') requireString(source, 'url', path);
  else if (source.type === 'file') requireString(source, 'file_id', path);
  else fail(`${path}.type`, `must be one of ${types}`);
}

function checkDocumentSource(source: unknown, path: string): void {
  if (!isRecord(source)) fail(path, 'Field required');
  switch (source.type) {
    case 'base64':
      if (source.media_type !== 'application/pdf') fail(`${path}.media_type`, "must be 'application/pdf'");
      requireString(source, 'data', path);
      return;
    case 'text':
      requireString(source, 'data', path);
      return;
    case 'content':
      if (typeof source.content === 'string') return;
      if (!Array.isArray(source.content)) fail(`${path}.content`, 'must be a string or an array of text and image blocks');
      source.content.forEach((part: unknown, index) => checkBlock(part, `${path}.content.${index}`, CONTENT_SOURCE_BLOCKS, 'document'));
      return;
    default:
      checkReferenceSource(source, path, "'base64', 'text', 'content', 'url' or 'file'");
  }
}

const CONTENT_SOURCE_BLOCKS = new Set(['text', 'image']);

function checkSystem(system: unknown): void {
  if (system === undefined || typeof system === 'string') return;
  if (!Array.isArray(system)) fail('system', 'must be a string or an array of text blocks');
  system.forEach((block: unknown, index) => {
    if (!isRecord(block) || block.type !== 'text') fail(`system.${index}.type`, "must be 'text'");
    requireString(block, 'text', `system.${index}`);
  });
}

function checkTools(tools: unknown): void {
  if (tools === undefined) return;
  if (!Array.isArray(tools)) fail('tools', 'must be an array');
  tools.forEach((tool: unknown, index) => {
    const path = `tools.${index}`;
    if (!isRecord(tool)) fail(path, 'must be an object');
    requireString(tool, 'name', path);
    const custom = tool.type === undefined || tool.type === null || tool.type === 'custom';
    // Anthropic's server tools (`web_search_20250305`, …) are named by their type and have no input schema.
    if (!custom && typeof tool.type !== 'string') fail(`${path}.type`, 'must be a string');
    if (custom && !isRecord(tool.input_schema)) fail(`${path}.input_schema`, 'Field required');
    if (tool.description !== undefined && typeof tool.description !== 'string') fail(`${path}.description`, 'must be a string');
  });
}

function checkToolChoice(choice: unknown): void {
  if (choice === undefined) return;
  if (!isRecord(choice)) fail('tool_choice', 'must be an object');
  if (choice.type === 'tool') requireString(choice, 'name', 'tool_choice');
  else if (choice.type !== 'auto' && choice.type !== 'any' && choice.type !== 'none') fail('tool_choice.type', "must be 'auto', 'any', 'tool' or 'none'");
}

function checkThinking(thinking: unknown): void {
  if (thinking === undefined) return;
  if (!isRecord(thinking)) fail('thinking', 'must be an object');
  if (thinking.type === 'enabled') {
    const budget = thinking.budget_tokens;
    if (typeof budget !== 'number' || !Number.isInteger(budget) || budget < 1) fail('thinking.budget_tokens', 'must be a positive whole number');
  } else if (thinking.type !== 'disabled' && thinking.type !== 'adaptive') fail('thinking.type', "must be 'enabled', 'disabled' or 'adaptive'");
}

function requireString(record: Record<string, unknown>, field: string, path: string): void {
  if (typeof record[field] !== 'string') fail(`${path}.${field}`, record[field] === undefined ? 'Field required' : 'must be a string');
}

function fail(path: string, problem: string): never {
  throw invalidRequest(`${path}: ${problem}`, path, 'invalid_request_error');
}
