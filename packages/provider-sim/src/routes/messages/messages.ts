import { deliverEventStream } from '../../delivery/event-stream.js';
import { deliverJson } from '../../delivery/json-delivery.js';
import { requireJsonObject } from '../../http/request-body.js';
import { generationDelayMs, startAnswer } from '../model-answer.js';
import type { RouteContext } from '../route-context.js';
import { answerMessages, piecesOfBlock } from './messages-answer.js';
import { accountMessagesCache } from './messages-cache.js';
import { parsePrompt } from './messages-prompt.js';
import { parseMessagesRequest, requireMessagesModel } from './messages-request.js';
import { buildMessage, buildMessagesStreamEvents, buildMessagesUsage, ledgerUsageOf, MESSAGES_STREAM_DIALECT } from './messages-response.js';

/**
 * POST /v1/messages. The cache is read and written once the request got past its faults, as a request that a
 * provider refused never reached its cache.
 */
export async function handleMessages(context: RouteContext): Promise<void> {
  const { state } = context;
  const request = parseMessagesRequest(requireJsonObject(context.body), state.options.models);
  const model = request.model;
  const start = await startAnswer(context, model, { promptTokens: request.inputTokens, promptParam: 'messages', stream: request.stream });
  if (!start.proceed) {
    return;
  }
  const cache = accountMessagesCache(state.promptCache, model.id, request.segments, model.promptCacheMinimumTokens);
  const answer = answerMessages(request, start.fault?.kind === 'empty');
  const usage = buildMessagesUsage(cache, answer.outputTokens);
  const reported = model.reportsUsage ? usage : undefined;
  // The ledger counts what the answer reported, as for chat and Gemini.
  const ledger = reported === undefined ? undefined : ledgerUsageOf(reported);
  const meta = { id: state.ids.next('msg_'), modelId: model.id };
  if (request.stream) {
    const events = buildMessagesStreamEvents(meta, answer, reported, model);
    await deliverEventStream(context.exchange, events, start.fault, ledger, model.jsonStyle, 0, MESSAGES_STREAM_DIALECT);
    return;
  }
  const generated = answer.blocks.reduce((sum, block) => sum + piecesOfBlock(block).length, 0);
  await deliverJson(
    context.exchange,
    buildMessage(meta, answer, reported),
    generationDelayMs(model, generated),
    start.fault,
    ledger,
    model.jsonStyle,
  );
}

/**
 * POST /v1/messages/count_tokens: every input token of the prompt, cached or not, as Anthropic counts them. It takes
 * no fault and no delay (queued faults are kept for the requests that generate), and touches no cache.
 */
export function handleCountTokens(context: RouteContext): Promise<void> {
  const body = requireJsonObject(context.body);
  requireMessagesModel(body, context.state.options.models);
  const prompt = parsePrompt(body);
  context.exchange.sendJson(200, { input_tokens: prompt.inputTokens });
  return Promise.resolve();
}
