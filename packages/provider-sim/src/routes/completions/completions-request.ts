import type { ResolvedModel } from '../../config/parse-simulator-options.js';
import { contextLengthError } from '../../faults/fault-errors.js';
import { estimateTokens } from '../../generation/token-count.js';
import { invalidRequestError } from '../../http/http-error.js';
import { includeUsageRequested, optionalBoolean, optionalInteger, requireModel } from '../request-fields.js';

export interface CompletionPrompt {
  /** What seeds this prompt's answers. */
  key: string;
  tokens: number;
}

export interface CompletionRequest {
  model: ResolvedModel;
  prompts: CompletionPrompt[];
  promptTokens: number;
  choiceCount: number;
  maximumTokens: number | undefined;
  stream: boolean;
  includeUsage: boolean;
}

const MAXIMUM_CHOICES = 8;
const MAXIMUM_COMPLETION_TOKENS = 1_000_000;

function isTokenArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.length > 0 && value.every((item) => Number.isInteger(item));
}

/** `prompt` may be a string, an array of strings, an array of token ids or an array of token-id arrays. */
function parsePrompts(prompt: unknown): CompletionPrompt[] {
  const textPrompt = (text: string): CompletionPrompt => ({ key: `text\u0001${text}`, tokens: estimateTokens(text.length) });
  const tokenPrompt = (tokens: number[]): CompletionPrompt => ({ key: `tokens\u0001${tokens.join(',')}`, tokens: tokens.length });
  if (typeof prompt === 'string') {
    return [textPrompt(prompt)];
  }
  if (isTokenArray(prompt)) {
    return [tokenPrompt(prompt)];
  }
  if (Array.isArray(prompt) && prompt.length > 0) {
    if (prompt.every((item): item is string => typeof item === 'string')) {
      return prompt.map(textPrompt);
    }
    if (prompt.every(isTokenArray)) {
      return prompt.map(tokenPrompt);
    }
  }
  if (prompt === undefined || prompt === null) {
    throw invalidRequestError("Missing required parameter: 'prompt'.", 'prompt');
  }
  throw invalidRequestError(
    "Invalid 'prompt': expected a string, an array of strings, an array of tokens or an array of token arrays.",
    'prompt',
    'invalid_type',
  );
}

export function parseCompletionRequest(
  body: Record<string, unknown>,
  models: ReadonlyMap<string, ResolvedModel>,
): CompletionRequest {
  const model = requireModel(body, models);
  const prompts = parsePrompts(body['prompt']);
  const maximumTokens = optionalInteger(body, 'max_tokens', 1, MAXIMUM_COMPLETION_TOKENS);
  for (const prompt of prompts) {
    if (prompt.tokens + (maximumTokens ?? 0) > model.contextWindow) {
      throw contextLengthError(model, prompt.tokens, maximumTokens ?? 0, 'prompt');
    }
  }
  return {
    model,
    prompts,
    promptTokens: prompts.reduce((sum, prompt) => sum + prompt.tokens, 0),
    choiceCount: optionalInteger(body, 'n', 1, MAXIMUM_CHOICES) ?? 1,
    maximumTokens,
    stream: optionalBoolean(body, 'stream') ?? false,
    includeUsage: includeUsageRequested(body),
  };
}
