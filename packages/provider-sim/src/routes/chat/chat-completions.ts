import { deliverEventStream } from '../../delivery/event-stream.js';
import { deliverJson } from '../../delivery/json-delivery.js';
import { requireJsonObject } from '../../http/request-body.js';
import { invalidRequestError } from '../../http/http-error.js';
import { generationDelayMs, startAnswer } from '../model-answer.js';
import { createResponseMeta } from '../response-meta.js';
import type { RouteContext } from '../route-context.js';
import { answerUsage } from '../usage.js';
import { answerChat, piecesOf } from './chat-answer.js';
import { accountChatCache } from './chat-cache.js';
import { parseChatRequest } from './chat-request.js';
import { buildChatCompletion, buildChatStreamEvents, completionTokensOf } from './chat-response.js';

/** POST /v1/chat/completions */
export async function handleChatCompletions(context: RouteContext): Promise<void> {
  const request = parseChatRequest(requireJsonObject(context.body), context.state.options.models);
  if (request.prefill !== undefined && request.model.rejectsPrefill) throw prefillRejected();
  const start = await startAnswer(context, request.model, { promptTokens: request.promptTokens, promptParam: 'messages', stream: request.stream });
  if (!start.proceed) {
    return;
  }
  const cachedTokens = accountChatCache(context.state.promptCache, request);
  const answers = answerChat(request, start.fault?.kind === 'empty');
  const usage = answerUsage(request, completionTokensOf(answers), cachedTokens);
  const meta = createResponseMeta(context.state, request.model, 'chatcmpl-');
  if (request.stream) {
    const events = buildChatStreamEvents(meta, answers, usage, request.model);
    await deliverEventStream(context.exchange, events, start.fault, usage, request.model.jsonStyle, answers.length);
    return;
  }
  const longest = answers.reduce((maximum, answer) => Math.max(maximum, piecesOf(answer).length), 0);
  await deliverJson(
    context.exchange,
    buildChatCompletion(meta, answers, usage),
    generationDelayMs(request.model, longest),
    start.fault,
    usage,
    request.model.jsonStyle,
  );
}

/** What backends that take no prefill answer (worded after Anthropic's and vLLM's refusals). */
function prefillRejected(): Error {
  return invalidRequestError(
    'This model does not support assistant message prefill: the conversation must end with a user message.',
    'messages',
    'invalid_value',
  );
}
