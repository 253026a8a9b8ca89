import { deliverEventStream } from '../../delivery/event-stream.js';
import { deliverJson } from '../../delivery/json-delivery.js';
import { requireJsonObject } from '../../http/request-body.js';
import { answerChat, piecesOf } from '../chat/chat-answer.js';
import { accountChatCache } from '../chat/chat-cache.js';
import { completionTokensOf } from '../chat/chat-response.js';
import { generationDelayMs, startAnswer } from '../model-answer.js';
import type { RouteContext, RouteHandler } from '../route-context.js';
import { geminiModelNotFound, parseGeminiRequest } from './gemini-request.js';
import { buildGeminiStreamEvents, buildGeminiUsage, buildGenerateContentResponse, GEMINI_STREAM_DIALECT, geminiLedgerUsage } from './gemini-response.js';

/** Where the Gemini API lives below the simulator's origin, as below Google's. */
export const GEMINI_PATH_PREFIX = '/v1beta/';
const MODELS_PREFIX = '/v1beta/models';

/**
 * The Gemini route of a request, undefined when none matches: GET /v1beta/models, GET /v1beta/models/{model},
 * POST /v1beta/models/{model}:generateContent and :streamGenerateContent (server-sent events with `alt=sse`, else
 * the JSON array Google answers without it).
 */
export function selectGeminiRoute(method: string, path: string, query: URLSearchParams): RouteHandler | undefined {
  if (method === 'GET' && path === MODELS_PREFIX) return handleListGeminiModels;
  if (!path.startsWith(`${MODELS_PREFIX}/`)) return undefined;
  const resource = decodeSegment(path.slice(MODELS_PREFIX.length + 1));
  if (resource === undefined) return undefined;
  const colon = resource.lastIndexOf(':');
  if (method === 'GET' && colon === -1) return (context) => handleGetGeminiModel(context, resource);
  if (method !== 'POST' || colon === -1) return undefined;
  const modelId = resource.slice(0, colon);
  switch (resource.slice(colon + 1)) {
    case 'generateContent':
      return (context) => handleGenerateContent(context, modelId, undefined);
    case 'streamGenerateContent':
      return (context) => handleGenerateContent(context, modelId, query.get('alt') === 'sse' ? 'sse' : 'array');
    default:
      return undefined;
  }
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function modelResource(context: RouteContext, id: string): Record<string, unknown> {
  const model = context.state.options.models.get(id);
  return {
    name: `models/${id}`,
    version: '001',
    displayName: id,
    inputTokenLimit: model?.contextWindow,
    outputTokenLimit: model?.outputTokens,
    supportedGenerationMethods: ['generateContent', 'streamGenerateContent', 'countTokens'],
  };
}

/** GET /v1beta/models: every model, as `models/{id}`, on one page. */
function handleListGeminiModels(context: RouteContext): Promise<void> {
  context.exchange.sendJson(200, { models: [...context.state.options.models.keys()].map((id) => modelResource(context, id)) });
  return Promise.resolve();
}

function handleGetGeminiModel(context: RouteContext, id: string): Promise<void> {
  if (!context.state.options.models.has(id)) throw geminiModelNotFound(id);
  context.exchange.sendJson(200, modelResource(context, id));
  return Promise.resolve();
}

/**
 * POST models/{model}:generateContent and :streamGenerateContent. The answer is the chat endpoint's (the same text,
 * tool call or schema value for the same prompt); the implicit cache is read and written once the request got past
 * its faults, as a request a provider refused never reached its cache. `stream` is undefined for a whole answer.
 */
async function handleGenerateContent(context: RouteContext, modelId: string, stream: 'sse' | 'array' | undefined): Promise<void> {
  const { state } = context;
  const model = state.options.models.get(modelId);
  if (model === undefined) throw geminiModelNotFound(modelId);
  const request = parseGeminiRequest(requireJsonObject(context.body), model);
  const start = await startAnswer(context, model, { promptTokens: request.promptTokens, promptParam: 'contents', stream: stream === 'sse' });
  if (!start.proceed) return;
  const cachedTokens = accountChatCache(state.promptCache, request);
  const answers = answerChat(
    { ...request, choiceCount: request.candidateCount, stream: stream !== undefined, includeUsage: true, prefill: undefined },
    start.fault?.kind === 'empty',
  );
  const thoughtsTokens = request.thinkingBudget === undefined ? 0 : Math.min(request.thinkingBudget, model.outputTokens);
  const usage = model.reportsUsage ? buildGeminiUsage(request.promptTokens, cachedTokens, completionTokensOf(answers), thoughtsTokens) : undefined;
  const meta = { responseId: state.ids.next(''), modelId: model.id };
  const ledger = usage === undefined ? undefined : geminiLedgerUsage(usage);
  if (stream === 'sse') {
    await deliverEventStream(context.exchange, buildGeminiStreamEvents(meta, answers, usage, model), start.fault, ledger, model.jsonStyle, 0, GEMINI_STREAM_DIALECT);
    return;
  }
  const answer = buildGenerateContentResponse(meta, answers, usage);
  const longest = answers.reduce((maximum, choice) => Math.max(maximum, piecesOf(choice).length), 0);
  // Without alt=sse Google streams one JSON array of responses; the simulator sends it whole, as one element.
  await deliverJson(context.exchange, stream === 'array' ? [answer] : answer, generationDelayMs(model, longest + thoughtsTokens), start.fault, ledger, model.jsonStyle);
}
