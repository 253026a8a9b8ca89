import type { ResolvedModel } from '../../config/parse-simulator-options.js';
import { contextLengthError } from '../../faults/fault-errors.js';
import { estimateTokens } from '../../generation/token-count.js';
import { invalidRequestError } from '../../http/http-error.js';
import { optionalInteger, requireModel } from '../request-fields.js';

/** Vector length when the request gives no `dimensions`: small, since nothing downstream needs real embeddings. */
export const DEFAULT_EMBEDDING_DIMENSIONS = 16;
const MAXIMUM_DIMENSIONS = 4_096;
const MAXIMUM_INPUTS = 2_048;

export interface EmbeddingInput {
  key: string;
  tokens: number;
}

export interface EmbeddingRequest {
  model: ResolvedModel;
  inputs: EmbeddingInput[];
  promptTokens: number;
  dimensions: number;
  encoding: 'float' | 'base64';
}

function isTokenArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.length > 0 && value.every((item) => Number.isInteger(item));
}

function invalidInput(): Error {
  return invalidRequestError(
    "'$.input' is invalid: expected a non-empty string, an array of non-empty strings, an array of tokens or an array of token arrays.",
    'input',
    'invalid_value',
  );
}

/** `input` may be a string, an array of strings, an array of token ids or an array of token-id arrays. */
function parseInputs(input: unknown): EmbeddingInput[] {
  const textInput = (text: string): EmbeddingInput => ({ key: `text\u0001${text}`, tokens: estimateTokens(text.length) });
  const tokenInput = (tokens: number[]): EmbeddingInput => ({ key: `tokens\u0001${tokens.join(',')}`, tokens: tokens.length });
  if (input === undefined || input === null) {
    throw invalidRequestError("Missing required parameter: 'input'.", 'input');
  }
  if (typeof input === 'string' && input.length > 0) {
    return [textInput(input)];
  }
  if (isTokenArray(input)) {
    return [tokenInput(input)];
  }
  if (Array.isArray(input) && input.length > 0 && input.length <= MAXIMUM_INPUTS) {
    if (input.every((item): item is string => typeof item === 'string' && item.length > 0)) {
      return input.map(textInput);
    }
    if (input.every(isTokenArray)) {
      return input.map(tokenInput);
    }
  }
  throw invalidInput();
}

export function parseEmbeddingRequest(body: Record<string, unknown>, models: ReadonlyMap<string, ResolvedModel>): EmbeddingRequest {
  const model = requireModel(body, models);
  const inputs = parseInputs(body['input']);
  for (const input of inputs) {
    if (input.tokens > model.contextWindow) {
      throw contextLengthError(model, input.tokens, 0, 'input');
    }
  }
  const encoding = body['encoding_format'] ?? 'float';
  if (encoding !== 'float' && encoding !== 'base64') {
    throw invalidRequestError(
      `Invalid value for 'encoding_format': ${JSON.stringify(encoding)}. Supported values are: 'float' and 'base64'.`,
      'encoding_format',
      'invalid_value',
    );
  }
  return {
    model,
    inputs,
    promptTokens: inputs.reduce((sum, input) => sum + input.tokens, 0),
    dimensions: optionalInteger(body, 'dimensions', 1, MAXIMUM_DIMENSIONS) ?? DEFAULT_EMBEDDING_DIMENSIONS,
    encoding,
  };
}
