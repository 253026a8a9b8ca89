import { deliverEventStream } from '../../delivery/event-stream.js';
import { deliverJson } from '../../delivery/json-delivery.js';
import { requireJsonObject } from '../../http/request-body.js';
import { generationDelayMs, startAnswer } from '../model-answer.js';
import { createResponseMeta } from '../response-meta.js';
import type { RouteContext } from '../route-context.js';
import { answerUsage } from '../usage.js';
import { parseCompletionRequest } from './completions-request.js';
import { answerCompletion, buildCompletionStreamEvents, buildTextCompletion } from './completions-response.js';

/** POST /v1/completions (the legacy text completions API). */
export async function handleCompletions(context: RouteContext): Promise<void> {
  const request = parseCompletionRequest(requireJsonObject(context.body), context.state.options.models);
  const start = await startAnswer(context, request.model, { promptTokens: request.promptTokens, promptParam: 'prompt', stream: request.stream });
  if (!start.proceed) {
    return;
  }
  const answers = answerCompletion(request, start.fault?.kind === 'empty');
  const completionTokens = answers.reduce((sum, answer) => sum + answer.tokens.length, 0);
  const usage = answerUsage(request, completionTokens);
  const meta = createResponseMeta(context.state, request.model, 'cmpl-');
  if (request.stream) {
    const events = buildCompletionStreamEvents(meta, answers, usage, request.model);
    await deliverEventStream(context.exchange, events, start.fault, usage, request.model.jsonStyle);
    return;
  }
  const longest = answers.reduce((maximum, answer) => Math.max(maximum, answer.tokens.length), 0);
  const body = buildTextCompletion(meta, answers, usage);
  await deliverJson(context.exchange, body, generationDelayMs(request.model, longest), start.fault, usage, request.model.jsonStyle);
}
