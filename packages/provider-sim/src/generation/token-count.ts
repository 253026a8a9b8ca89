/** Token overhead OpenAI charges per chat message for its role and separators. */
export const TOKENS_PER_MESSAGE = 3;

/** The simulator's token estimate: about four characters per token, as OpenAI's rule of thumb says. */
export function estimateTokens(characters: number): number {
  return Math.ceil(characters / 4);
}
