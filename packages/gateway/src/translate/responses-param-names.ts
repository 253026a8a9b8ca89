import { GatewayError } from '@dosrouter/shared';

/**
 * The Responses field each Chat Completions field of its translation (responses-to-chat.ts) came from, for a refusal
 * of that translation (an Anthropic or Gemini deployment's): a Responses client never sent `response_format`. Longest
 * prefix first. Chat's `messages` are not the input items one to one (instructions become a message, a function call
 * joins the assistant message before it), so a message's path names `input` as a whole.
 */
const RESPONSES_NAMES: readonly (readonly [chat: string, responses: string])[] = [
  ['response_format.json_schema', 'text.format'],
  ['response_format', 'text.format'],
  ['max_completion_tokens', 'max_output_tokens'],
  ['reasoning_effort', 'reasoning.effort'],
  ['verbosity', 'text.verbosity'],
  ['messages', 'input'],
];

/** `param` of the Chat translation named as the Responses request names it; the same name when the field is shared. */
export function responsesParamOf(param: string): string {
  for (const [chat, responses] of RESPONSES_NAMES) {
    if (chat === 'messages' && (param === chat || param.startsWith('messages['))) return responses;
    if (param === chat || param.startsWith(`${chat}.`)) return `${responses}${param.slice(chat.length)}`;
  }
  return param;
}

/** The refusal as a Responses client reads it: its param, and the param where the message quotes it, renamed. */
export function inResponsesTerms(error: unknown): unknown {
  if (!(error instanceof GatewayError) || error.param === null) return error;
  const param = responsesParamOf(error.param);
  if (param === error.param) return error;
  return new GatewayError(error.message.replaceAll(`\`${error.param}\``, `\`${param}\``), {
    status: error.status,
    code: error.code,
    type: error.type,
    param,
    retryable: error.retryable,
    headers: error.headers,
    cause: error,
  });
}
