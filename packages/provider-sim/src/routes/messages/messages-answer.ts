import { hashParts } from '../../generation/hash.js';
import { answerSeed, generateTextTokens } from '../../generation/text-generator.js';
import { generateToolCall } from '../chat/chat-answer.js';
import type { MessagesRequest } from './messages-request.js';
import { signatureOf } from './thinking-signature.js';

export type MessagesBlock =
  | { kind: 'thinking'; tokens: string[]; signature: string }
  | { kind: 'text'; tokens: string[] }
  | { kind: 'tool_use'; id: string; name: string; inputPieces: string[] };

export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use';

export interface MessagesAnswer {
  blocks: MessagesBlock[];
  stopReason: StopReason;
  /** The stop sequence that ended the text, when stopReason is stop_sequence. */
  stopSequence: string | null;
  /** Every generated token, thinking included, as Anthropic counts output_tokens. */
  outputTokens: number;
}

/** The units a block streams, one per delta, and counts as output tokens. */
export function piecesOfBlock(block: MessagesBlock): readonly string[] {
  return block.kind === 'tool_use' ? block.inputPieces : block.tokens;
}

/**
 * Cuts the text before the earliest stop sequence, as Anthropic does (the sequence itself is not returned), or
 * undefined when none occurs.
 */
function cutAtStopSequence(tokens: readonly string[], stopSequences: readonly string[]): { tokens: string[]; sequence: string } | undefined {
  const text = tokens.join('');
  let earliest: { at: number; sequence: string } | undefined;
  for (const sequence of stopSequences) {
    const at = text.indexOf(sequence);
    if (at !== -1 && (earliest === undefined || at < earliest.at)) {
      earliest = { at, sequence };
    }
  }
  if (earliest === undefined) {
    return undefined;
  }
  const kept: string[] = [];
  let offset = 0;
  for (const token of tokens) {
    if (offset >= earliest.at) {
      break;
    }
    kept.push(token.slice(0, earliest.at - offset));
    offset += token.length;
  }
  return { tokens: kept, sequence: earliest.sequence };
}

function textAnswer(request: MessagesRequest, seed: number, budget: number, blocks: MessagesBlock[]): MessagesAnswer {
  const capped = request.model.outputTokens > budget;
  const tokens = generateTextTokens(seed, capped ? budget : request.model.outputTokens);
  const stopped = cutAtStopSequence(tokens, request.stopSequences);
  const textTokens = stopped?.tokens ?? tokens;
  const thinkingTokens = blocks.reduce((sum, block) => sum + piecesOfBlock(block).length, 0);
  return {
    blocks: [...blocks, { kind: 'text', tokens: textTokens }],
    stopReason: stopped !== undefined ? 'stop_sequence' : capped ? 'max_tokens' : 'end_turn',
    stopSequence: stopped?.sequence ?? null,
    outputTokens: thinkingTokens + textTokens.length,
  };
}

/**
 * The answer to a Messages request: a pure function of (model, prompt), so streamed and whole answers and separate
 * simulators agree. With thinking enabled it opens with a signed thinking block of the model's outputTokens (at most
 * the budget); then either a tool_use block (chosen as the chat endpoint chooses its tool call) or text of the
 * model's outputTokens, cut by max_tokens (what thinking left of it) and by stop sequences. `empty` (the empty fault)
 * answers no block at all.
 */
export function answerMessages(request: MessagesRequest, empty: boolean): MessagesAnswer {
  if (empty) {
    return { blocks: [], stopReason: 'end_turn', stopSequence: null, outputTokens: 0 };
  }
  const seed = answerSeed(request.model.id, request.promptKey, 0);
  const blocks: MessagesBlock[] = [];
  if (request.thinkingBudget !== undefined) {
    const thinking = generateTextTokens(hashParts([seed, 'thinking']), Math.min(request.thinkingBudget, request.model.outputTokens));
    blocks.push({ kind: 'thinking', tokens: thinking, signature: signatureOf(thinking.join('')) });
  }
  const thinkingTokens = blocks.reduce((sum, block) => sum + piecesOfBlock(block).length, 0);
  if (request.toolToCall !== undefined) {
    const call = generateToolCall(seed, request.toolToCall, 'toolu_01', 22);
    return {
      blocks: [...blocks, { kind: 'tool_use', id: call.callId, name: request.toolToCall.name, inputPieces: call.argumentPieces }],
      stopReason: 'tool_use',
      stopSequence: null,
      outputTokens: thinkingTokens + call.argumentPieces.length,
    };
  }
  return textAnswer(request, seed, request.maximumTokens - thinkingTokens, blocks);
}
