import { splitJsonIntoPieces } from '../../generation/json-pieces.js';
import { generateValueFromSchema } from '../../generation/schema-value.js';
import { createSeededRandom, randomAlphanumeric } from '../../generation/seeded-random.js';
import { answerSeed, generateTextTokens, wrapTokensAsJsonAnswer } from '../../generation/text-generator.js';
import { hashParts } from '../../generation/hash.js';
import { isRecord } from '../../json-value.js';
import { completionLength } from '../request-fields.js';
import type { ChatRequest, ChatTool } from './chat-request.js';

export interface TextChoiceAnswer {
  kind: 'text';
  index: number;
  /** Joined, the message content; streamed one per chunk. */
  tokens: string[];
  finishReason: 'stop' | 'length';
}

export interface ToolCallChoiceAnswer {
  kind: 'tool_call';
  index: number;
  callId: string;
  functionName: string;
  /** Joined, the arguments JSON; streamed one per chunk. */
  argumentPieces: string[];
}

export type ChatChoiceAnswer = TextChoiceAnswer | ToolCallChoiceAnswer;

/** The units a choice streams, one per chunk, and counts as completion tokens. */
export function piecesOf(answer: ChatChoiceAnswer): readonly string[] {
  return answer.kind === 'text' ? answer.tokens : answer.argumentPieces;
}

/**
 * A call to `tool` as its id and its arguments JSON in pieces, drawn from `seed`: the id is `idPrefix` and
 * `idLength` random characters. Shared by chat's tool_calls and Messages' tool_use blocks.
 */
export function generateToolCall(
  seed: number,
  tool: ChatTool,
  idPrefix: string,
  idLength: number,
): { callId: string; argumentPieces: string[] } {
  const random = createSeededRandom(seed);
  const callId = `${idPrefix}${randomAlphanumeric(random, idLength)}`;
  // Tool arguments are always a JSON object, even when the schema is missing or says otherwise at the top.
  const argumentsValue = isRecord(tool.parameters) ? generateValueFromSchema({ ...tool.parameters, type: 'object' }, random) : {};
  return { callId, argumentPieces: splitJsonIntoPieces(JSON.stringify(argumentsValue)) };
}

function toolCallAnswer(index: number, seed: number, tool: ChatTool): ToolCallChoiceAnswer {
  return { kind: 'tool_call', index, functionName: tool.name, ...generateToolCall(seed, tool, 'call_', 24) };
}

function textAnswer(request: ChatRequest, index: number, seed: number): TextChoiceAnswer {
  const format = request.responseFormat;
  if (format.type === 'json_schema' && isRecord(format.schema)) {
    // Structured output follows the schema whatever the length limit, so that the content always parses.
    const value = generateValueFromSchema(format.schema, createSeededRandom(seed));
    return { kind: 'text', index, tokens: splitJsonIntoPieces(JSON.stringify(value)), finishReason: 'stop' };
  }
  const length = completionLength(request.model, request.maximumTokens);
  const words = generateTextTokens(seed, length.tokens);
  const tokens = format.type === 'text' ? words : wrapTokensAsJsonAnswer(words);
  return { kind: 'text', index, tokens: continuing(tokens, request.prefill, seed), finishReason: length.capped ? 'length' : 'stop' };
}

/**
 * The tokens that continue `prefill`: the rest of `tokens` when the prefill is their start (ending on a token
 * boundary), as a model continues its own words; otherwise other words, seeded from the prefill as well.
 */
export function continuing(tokens: readonly string[], prefill: string | undefined, seed: number): string[] {
  if (prefill === undefined || prefill === '') return [...tokens];
  let consumed = 0;
  let length = 0;
  while (consumed < tokens.length && length < prefill.length) {
    length += tokens[consumed]!.length;
    consumed += 1;
  }
  if (length === prefill.length && tokens.slice(0, consumed).join('') === prefill) return tokens.slice(consumed);
  const other = generateTextTokens(hashParts([seed, prefill]), Math.max(1, tokens.length - consumed));
  return other.map((token) => (token.startsWith(' ') ? token : ` ${token}`));
}

/**
 * Every choice's answer. Each is a pure function of (model id, messages, choice index), so streaming and
 * non-streaming requests, and separate simulators, agree. `empty` (the empty fault) answers "" with no tool call.
 */
export function answerChat(request: ChatRequest, empty: boolean): ChatChoiceAnswer[] {
  const answers: ChatChoiceAnswer[] = [];
  for (let index = 0; index < request.choiceCount; index += 1) {
    const seed = answerSeed(request.model.id, request.promptKey, index);
    if (empty) {
      answers.push({ kind: 'text', index, tokens: [], finishReason: 'stop' });
    } else if (request.toolToCall !== undefined) {
      answers.push(toolCallAnswer(index, seed, request.toolToCall));
    } else {
      answers.push(textAnswer(request, index, seed));
    }
  }
  return answers;
}
