import type { Capability } from '../../config/schema.js';
import { isNonEmptyArray, isRecord } from '../../json.js';
import { estimateTokens } from '../classifier/estimate-tokens.js';
import { MESSAGE_OVERHEAD_TOKENS, readPrompt } from '../classifier/request-text.js';
import type { RequestProfile } from '../strategies/request-profile.js';

/** What routing reads from a request body, in one pass over its messages: no I/O, no tokenizer. */
export interface RequestFacts {
  readonly profile: RequestProfile;
  /** The last user message's text (chat), or the prompt (completions): what rules' `lastUserMessage` matches. */
  readonly lastUserText: string;
  /** The body's `metadata` object, string values only. */
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Reads the facts routing needs from a validated body. `operation` is the upstream path (`chat/completions`,
 * `completions`, `embeddings`). Capabilities a request needs:
 * - `tools` when it sends tools or legacy functions (a backend without them rejects the field, whatever tool_choice says);
 * - `vision` when a message has an image part;
 * - `documents` when a message has a file part (a PDF: a Messages request's document block arrives as one);
 * - `json_schema` when `response_format.type` is `json_schema`.
 * Streaming is not required: the `streaming` capability is a default every deployment has unless configured otherwise.
 */
export function readRequestFacts(operation: string, body: Record<string, unknown>, stream: boolean): RequestFacts {
  const required: Capability[] = [];
  let estimatedPromptTokens: number;
  let lastUserText: string;
  let contextTokens: number | undefined;
  if (operation === 'chat/completions') {
    const prompt = readPrompt(body);
    estimatedPromptTokens = prompt.promptTokens;
    lastUserText = prompt.lastUserText;
    if (isNonEmptyArray(body.tools) || isNonEmptyArray(body.functions)) required.push('tools');
    if (hasPart(body.messages, IMAGE_PARTS)) required.push('vision');
    if (hasPart(body.messages, FILE_PARTS)) required.push('documents');
    const format = body.response_format;
    if (isRecord(format) && format.type === 'json_schema') required.push('json_schema');
  } else {
    const input = sizeOfInput(operation === 'embeddings' ? body.input : body.prompt);
    lastUserText = input.text;
    estimatedPromptTokens = input.tokens;
    // An embedding model applies its context window to each input of a batch, not to their sum.
    if (operation === 'embeddings') contextTokens = input.largest;
  }
  const maxOutputTokens = positiveInteger(body.max_completion_tokens) ?? positiveInteger(body.max_tokens);
  return {
    profile: {
      stream,
      estimatedPromptTokens,
      ...(maxOutputTokens === undefined ? {} : { maxOutputTokens }),
      ...(contextTokens === undefined ? {} : { contextTokens }),
      requiredCapabilities: required,
    },
    lastUserText,
    metadata: stringMetadata(body.metadata),
  };
}

const IMAGE_PARTS: ReadonlySet<unknown> = new Set(['image_url', 'input_image', 'image']);
const FILE_PARTS: ReadonlySet<unknown> = new Set(['file', 'input_file']);

function hasPart(messages: unknown, types: ReadonlySet<unknown>): boolean {
  if (!Array.isArray(messages)) return false;
  for (const message of messages as unknown[]) {
    if (!isRecord(message) || !Array.isArray(message.content)) continue;
    for (const part of message.content as unknown[]) {
      if (isRecord(part) && types.has(part.type)) return true;
    }
  }
  return false;
}

/**
 * A completion prompt or embedding input: a string, a list of strings, a list of token ids, or a list of token-id
 * lists. Token ids count one token each; strings are estimated. `largest` is the biggest single input.
 */
function sizeOfInput(input: unknown): { text: string; tokens: number; largest: number } {
  if (typeof input === 'string') {
    const tokens = estimateTokens(input) + MESSAGE_OVERHEAD_TOKENS;
    return { text: input, tokens, largest: tokens };
  }
  if (!Array.isArray(input)) return { text: '', tokens: 0, largest: 0 };
  const entries = input as unknown[];
  if (entries.every((entry) => typeof entry === 'number')) return { text: '', tokens: entries.length, largest: entries.length };
  const texts: string[] = [];
  let tokens = 0;
  let largest = 0;
  for (const entry of entries) {
    let size = 0;
    if (typeof entry === 'string') {
      texts.push(entry);
      size = estimateTokens(entry) + MESSAGE_OVERHEAD_TOKENS;
    } else if (Array.isArray(entry)) {
      size = entry.length;
    }
    tokens += size;
    largest = Math.max(largest, size);
  }
  return { text: texts.join('\n'), tokens, largest };
}

function stringMetadata(metadata: unknown): Record<string, string> {
  if (!isRecord(metadata)) return {};
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) if (typeof value === 'string') result[key] = value;
  return result;
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}
