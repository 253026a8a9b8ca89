import { invalidRequestError } from '../../http/http-error.js';
import { estimateTokens, TOKENS_PER_MESSAGE } from '../../generation/token-count.js';
import { isRecord } from '../../json-value.js';

/** Anthropic's two cache lifetimes; `5m` is the default of `cache_control: {type: 'ephemeral'}`. */
export type CacheTtl = '5m' | '1h';

/**
 * One piece of a Messages prompt in the order Anthropic caches it (tools, then system, then messages): a tool
 * definition, a system block, a message's opening, or one content block. `canonical` is the piece without its
 * `cache_control`, so that marking a block does not change the prefix it belongs to.
 */
export interface PromptSegment {
  tokens: number;
  canonical: string;
  /** Set on a block marked `cache_control`: the prefix up to and including it is cached for this long. */
  cacheTtl: CacheTtl | undefined;
}

/**
 * What an image or a binary document counts, whatever its size: the simulator does not decode them. About what
 * Anthropic charges for a 1092×1092 image (width × height / 750).
 */
export const IMAGE_TOKENS = 1_600;
export const BINARY_DOCUMENT_TOKENS = 1_600;

/** Anthropic accepts at most this many `cache_control` markers in one request. */
export const MAXIMUM_CACHE_BREAKPOINTS = 4;

function cacheTtlOf(block: Record<string, unknown>, path: string): CacheTtl | undefined {
  const control = block['cache_control'];
  if (control === undefined || control === null) {
    return undefined;
  }
  if (!isRecord(control) || control['type'] !== 'ephemeral') {
    throw invalidRequestError(`${path}.cache_control.type: Input should be 'ephemeral'`);
  }
  const ttl = control['ttl'];
  if (ttl === undefined || ttl === '5m' || ttl === '1h') {
    return ttl ?? '5m';
  }
  throw invalidRequestError(`${path}.cache_control.ttl: Input should be '5m' or '1h'`);
}

function withoutCacheControl(block: Record<string, unknown>): string {
  if (block['cache_control'] === undefined) {
    return JSON.stringify(block);
  }
  const { cache_control: _ignored, ...rest } = block;
  return JSON.stringify(rest);
}

function textLength(value: unknown): number {
  return typeof value === 'string' ? value.length : 0;
}

/** The tokens of a tool_result's content: a string, or text and image blocks. */
function toolResultTokens(content: unknown): number {
  if (typeof content === 'string') {
    return estimateTokens(content.length);
  }
  if (!Array.isArray(content)) {
    return 0;
  }
  return content.reduce<number>((sum, part) => {
    if (isRecord(part) && part['type'] === 'image') {
      return sum + IMAGE_TOKENS;
    }
    return sum + estimateTokens(isRecord(part) ? textLength(part['text']) : 0);
  }, 0);
}

function documentTokens(block: Record<string, unknown>): number {
  const source = block['source'];
  if (!isRecord(source)) {
    return BINARY_DOCUMENT_TOKENS;
  }
  if (source['type'] === 'text') {
    return estimateTokens(textLength(source['data']));
  }
  if (source['type'] === 'content') {
    return toolResultTokens(source['content']);
  }
  return BINARY_DOCUMENT_TOKENS;
}

function requireString(block: Record<string, unknown>, field: string, path: string): string {
  const value = block[field];
  if (typeof value !== 'string') {
    throw invalidRequestError(`${path}.${field}: Field required`);
  }
  return value;
}

/** Validates the fields each block type cannot do without and counts its tokens. Unknown types count as their JSON. */
function contentBlockTokens(block: Record<string, unknown>, path: string): number {
  switch (block['type']) {
    case 'text':
      return estimateTokens(requireString(block, 'text', path).length);
    case 'image':
      if (!isRecord(block['source'])) {
        throw invalidRequestError(`${path}.source: Field required`);
      }
      return IMAGE_TOKENS;
    case 'document':
      if (!isRecord(block['source'])) {
        throw invalidRequestError(`${path}.source: Field required`);
      }
      return documentTokens(block);
    case 'tool_use': {
      const name = requireString(block, 'name', path);
      requireString(block, 'id', path);
      if (!isRecord(block['input'])) {
        throw invalidRequestError(`${path}.input: Input should be a valid dictionary`);
      }
      return estimateTokens(name.length + JSON.stringify(block['input']).length);
    }
    case 'tool_result':
      requireString(block, 'tool_use_id', path);
      return toolResultTokens(block['content']);
    case 'thinking':
      requireString(block, 'signature', path);
      return estimateTokens(requireString(block, 'thinking', path).length);
    case 'redacted_thinking':
      return estimateTokens(requireString(block, 'data', path).length);
    default:
      if (typeof block['type'] !== 'string') {
        throw invalidRequestError(`${path}.type: Field required`);
      }
      return estimateTokens(JSON.stringify(block).length);
  }
}

function blockSegment(block: unknown, path: string): PromptSegment {
  if (!isRecord(block)) {
    throw invalidRequestError(`${path}: Input should be a valid dictionary`);
  }
  return { tokens: contentBlockTokens(block, path), canonical: withoutCacheControl(block), cacheTtl: cacheTtlOf(block, path) };
}

/** Each custom tool counts its name, description and schema; a server tool (with its own `type`) counts its JSON. */
function toolSegment(tool: unknown, path: string): PromptSegment {
  if (!isRecord(tool)) {
    throw invalidRequestError(`${path}: Input should be a valid dictionary`);
  }
  const name = requireString(tool, 'name', path);
  const custom = tool['type'] === undefined || tool['type'] === null || tool['type'] === 'custom';
  if (custom && !isRecord(tool['input_schema'])) {
    throw invalidRequestError(`${path}.input_schema: Field required`);
  }
  const characters = custom
    ? name.length + textLength(tool['description']) + JSON.stringify(tool['input_schema']).length
    : JSON.stringify(tool).length;
  return { tokens: estimateTokens(characters), canonical: withoutCacheControl(tool), cacheTtl: cacheTtlOf(tool, path) };
}

function systemSegments(system: unknown): PromptSegment[] {
  if (system === undefined || system === null) {
    return [];
  }
  if (typeof system === 'string') {
    return system.length === 0 ? [] : [{ tokens: estimateTokens(system.length), canonical: JSON.stringify(system), cacheTtl: undefined }];
  }
  if (!Array.isArray(system)) {
    throw invalidRequestError('system: Input should be a valid string or a list of text blocks');
  }
  return system.map((block, index) => {
    const path = `system.${index}`;
    if (!isRecord(block) || block['type'] !== 'text') {
      throw invalidRequestError(`${path}.type: Input should be 'text'`);
    }
    return blockSegment(block, path);
  });
}

export interface PromptMessage {
  role: 'user' | 'assistant';
  /** The content as blocks; a string content is one text block. */
  blocks: Record<string, unknown>[];
}

function messageSegments(message: unknown, index: number): { message: PromptMessage; segments: PromptSegment[] } {
  const path = `messages.${index}`;
  if (!isRecord(message)) {
    throw invalidRequestError(`${path}: Input should be a valid dictionary`);
  }
  const role = message['role'];
  if (role !== 'user' && role !== 'assistant') {
    throw invalidRequestError(`${path}.role: Input should be 'user' or 'assistant'`);
  }
  const content = message['content'];
  const opening: PromptSegment = { tokens: TOKENS_PER_MESSAGE, canonical: `\u0001${role}`, cacheTtl: undefined };
  if (typeof content === 'string') {
    const block = { type: 'text', text: content };
    return { message: { role, blocks: [block] }, segments: [opening, blockSegment(block, `${path}.content`)] };
  }
  if (!Array.isArray(content)) {
    throw invalidRequestError(`${path}.content: Input should be a valid string or a list of content blocks`);
  }
  const segments = content.map((block, blockIndex) => blockSegment(block, `${path}.content.${blockIndex}`));
  return { message: { role, blocks: content as Record<string, unknown>[] }, segments: [opening, ...segments] };
}

export interface ParsedPrompt {
  segments: PromptSegment[];
  messages: PromptMessage[];
  /** Every input token, cached or not: what count_tokens answers. */
  inputTokens: number;
}

/** Walks tools, system and messages in Anthropic's cache order, validating each and counting its tokens. */
export function parsePrompt(body: Record<string, unknown>): ParsedPrompt {
  const tools = body['tools'];
  if (tools !== undefined && tools !== null && !Array.isArray(tools)) {
    throw invalidRequestError('tools: Input should be a valid list');
  }
  const rawMessages = body['messages'];
  if (rawMessages === undefined || rawMessages === null) {
    throw invalidRequestError('messages: Field required');
  }
  if (!Array.isArray(rawMessages) || rawMessages.length === 0) {
    throw invalidRequestError('messages: at least one message is required');
  }
  const segments: PromptSegment[] = [
    ...(Array.isArray(tools) ? tools.map((tool, index) => toolSegment(tool, `tools.${index}`)) : []),
    ...systemSegments(body['system']),
  ];
  const messages: PromptMessage[] = [];
  rawMessages.forEach((raw, index) => {
    const parsed = messageSegments(raw, index);
    messages.push(parsed.message);
    segments.push(...parsed.segments);
  });
  const breakpoints = segments.filter((segment) => segment.cacheTtl !== undefined).length;
  if (breakpoints > MAXIMUM_CACHE_BREAKPOINTS) {
    throw invalidRequestError(
      `A maximum of ${MAXIMUM_CACHE_BREAKPOINTS} blocks with cache_control may be provided. Found ${breakpoints}.`,
    );
  }
  return { segments, messages, inputTokens: segments.reduce((sum, segment) => sum + segment.tokens, 0) };
}
