import { deliverEventStream } from '../../delivery/event-stream.js';
import { deliverJson } from '../../delivery/json-delivery.js';
import { requireJsonObject } from '../../http/request-body.js';
import { answerChat, piecesOf } from '../chat/chat-answer.js';
import { accountChatCache } from '../chat/chat-cache.js';
import { generationDelayMs, startAnswer } from '../model-answer.js';
import { createResponseMeta } from '../response-meta.js';
import type { RouteContext } from '../route-context.js';
import { parseResponsesRequest } from './responses-request.js';
import { buildResponse, buildResponsesStreamEvents, buildResponsesUsage, ledgerUsageOf, responsesStreamDialect } from './responses-response.js';

/** POST /v1/responses: OpenAI's Responses API, its answer the chat endpoint's for the same conversation. */
export async function handleResponses(context: RouteContext): Promise<void> {
  const body = requireJsonObject(context.body);
  const request = parseResponsesRequest(body, context.state.options.models);
  const start = await startAnswer(context, request.model, { promptTokens: request.promptTokens, promptParam: 'input', stream: request.stream });
  if (!start.proceed) {
    return;
  }
  const cachedTokens = accountChatCache(context.state.promptCache, request);
  const [answer] = answerChat(request, start.fault?.kind === 'empty');
  const usage = buildResponsesUsage(request.promptTokens, piecesOf(answer!).length, cachedTokens);
  const meta = createResponseMeta(context.state, request.model, 'resp_');
  if (request.stream) {
    const { events, openingEvents } = buildResponsesStreamEvents(meta, request, body, answer!, usage, request.model);
    await deliverEventStream(context.exchange, events, start.fault, ledgerUsageOf(usage), request.model.jsonStyle, openingEvents, responsesStreamDialect(events.length));
    return;
  }
  await deliverJson(
    context.exchange,
    buildResponse(meta, request, body, answer!, usage),
    generationDelayMs(request.model, piecesOf(answer!).length),
    start.fault,
    ledgerUsageOf(usage),
    request.model.jsonStyle,
  );
}
