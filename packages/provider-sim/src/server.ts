import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { applyOutage } from './faults/outage.js';
import { authorizeAnthropic, toAnthropicErrorBody } from './http/anthropic-error.js';
import { authorizeGemini, toGeminiError } from './http/gemini-error.js';
import { Exchange, type ExchangeObserver } from './http/exchange.js';
import { invalidUrlError, SimulatorHttpError } from './http/http-error.js';
import { sendJsonResponse } from './http/json-response.js';
import { parseJsonBody, readRequestBody } from './http/request-body.js';
import { errorMessage, isRecord } from './json-value.js';
import { handleChatCompletions } from './routes/chat/chat-completions.js';
import { handleCompletions } from './routes/completions/completions.js';
import { CONTROL_PREFIX, handleControl } from './routes/control.js';
import { handleEmbeddings } from './routes/embeddings/embeddings.js';
import { GEMINI_PATH_PREFIX, selectGeminiRoute } from './routes/gemini/gemini.js';
import { handleCountTokens, handleMessages } from './routes/messages/messages.js';
import { handleListModels, handleRetrieveModel } from './routes/models.js';
import { handleResponses } from './routes/responses/responses.js';
import type { RouteHandler } from './routes/route-context.js';
import { flattenHeaders } from './state/request-recorder.js';
import type { SimulatorState } from './state/simulator-state.js';

const ROUTES: ReadonlyMap<string, RouteHandler> = new Map([
  ['POST /v1/chat/completions', handleChatCompletions],
  ['POST /v1/completions', handleCompletions],
  ['POST /v1/embeddings', handleEmbeddings],
  ['POST /v1/responses', handleResponses],
  ['GET /v1/models', handleListModels],
  ['POST /v1/messages', handleMessages],
  ['POST /v1/messages/count_tokens', handleCountTokens],
]);
/** Paths answered in Anthropic's protocol: its headers, its authentication and its error shape. */
const ANTHROPIC_PATH_PREFIX = '/v1/messages';
const MODEL_PATH_PREFIX = '/v1/models/';

/** The one place that turns anything thrown by a handler into an error answer (OpenAI's shape, or Anthropic's). */
function toHttpError(error: unknown): SimulatorHttpError {
  if (error instanceof SimulatorHttpError) {
    return error;
  }
  const message = errorMessage(error);
  process.stderr.write(`${JSON.stringify({ msg: 'provider simulator handler failed', error: message })}\n`);
  return new SimulatorHttpError({ status: 500, message: `The simulator failed: ${message}`, type: 'server_error', cause: error });
}

function authorize(state: SimulatorState, request: IncomingMessage): void {
  const apiKey = state.options.apiKey;
  if (apiKey === undefined) {
    return;
  }
  const header = request.headers.authorization;
  if (header === `Bearer ${apiKey}`) {
    return;
  }
  throw new SimulatorHttpError({
    status: 401,
    // Never echo the key that was sent: these messages end up in logs.
    message:
      header === undefined
        ? "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
        : 'Incorrect API key provided.',
    type: 'authentication_error',
    code: 'invalid_api_key',
  });
}

function decodePathSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function selectRoute(method: string, path: string): RouteHandler | undefined {
  const handler = ROUTES.get(`${method} ${path}`);
  if (handler !== undefined) {
    return handler;
  }
  if (method === 'GET' && path.startsWith(MODEL_PATH_PREFIX) && path.length > MODEL_PATH_PREFIX.length) {
    const modelId = decodePathSegment(path.slice(MODEL_PATH_PREFIX.length));
    return modelId === undefined ? undefined : (context) => handleRetrieveModel(context, modelId);
  }
  return undefined;
}

/**
 * The `x-request-id` the client sent, "" without one. The usage ledger is keyed by it (not by the id the simulator
 * answers with) so that a test can match the backend's usage to the gateway's request, retries included.
 */
function incomingRequestId(request: IncomingMessage): string {
  const header = request.headers['x-request-id'];
  return typeof header === 'string' ? header : '';
}

/** Counts how each exchange ended, and adds the usage of every answer written to the end to the ledger. */
function observeExchange(state: SimulatorState, requestId: string): ExchangeObserver {
  return {
    onCompleted: (usage) => {
      state.stats.countCompleted();
      if (usage !== undefined) {
        state.usage.record(requestId, usage);
      }
    },
    onAborted: () => state.stats.countAborted(),
  };
}

type Protocol = 'openai' | 'anthropic' | 'gemini';

function protocolOf(request: IncomingMessage, path: string): Protocol {
  if (path.startsWith(GEMINI_PATH_PREFIX)) return 'gemini';
  // Anthropic lists models at OpenAI's path (GET /v1/models): a request naming an anthropic-version is one of its.
  const anthropic =
    path === ANTHROPIC_PATH_PREFIX || path.startsWith(`${ANTHROPIC_PATH_PREFIX}/`) || (path.startsWith('/v1/models') && request.headers['anthropic-version'] !== undefined);
  return anthropic ? 'anthropic' : 'openai';
}

/**
 * Counts, records, authenticates and routes one request to the OpenAI-compatible API, the Messages API or the Gemini
 * API (below /v1beta/). An outage answers ahead of authentication and routing, since a backend that is down checks neither.
 */
async function handleApiRequest(
  state: SimulatorState,
  request: IncomingMessage,
  response: ServerResponse,
  method: string,
  path: string,
  query: URLSearchParams,
): Promise<void> {
  const receivedAt = state.clock();
  state.stats.countRequest(request.httpVersion);
  const protocol = protocolOf(request, path);
  const anthropic = protocol === 'anthropic';
  const responseId = state.ids.next('req_');
  // Anthropic names its request id header `request-id`; x-request-id stays for clients of both protocols.
  const commonHeaders: Record<string, string> = anthropic ? { 'request-id': responseId, 'x-request-id': responseId } : { 'x-request-id': responseId };
  const exchange = new Exchange(response, observeExchange(state, incomingRequestId(request)), commonHeaders, state.wheel);
  try {
    const body = parseJsonBody(await readRequestBody(request));
    state.recorder.record({
      method,
      path,
      headers: flattenHeaders(request.headers),
      body: body.kind === 'json' ? body.value : undefined,
      receivedAt,
      httpVersion: request.httpVersion,
    });
    if (body.kind === 'json' && isRecord(body.value) && typeof body.value['model'] === 'string') {
      state.stats.countModel(body.value['model']);
    }
    const outage = state.outage;
    if (outage !== undefined) {
      state.stats.countFault('outage');
      applyOutage(exchange, outage);
      return;
    }
    if (protocol === 'gemini') {
      authorizeGemini(state.options.apiKey, request, query);
    } else if (anthropic) {
      authorizeAnthropic(state.options.apiKey, request);
    } else {
      authorize(state, request);
    }
    const handler = protocol === 'gemini' ? selectGeminiRoute(method, path, query) : selectRoute(method, path);
    if (handler === undefined) {
      throw invalidUrlError(method, path);
    }
    await handler({ exchange, body, state });
  } catch (error) {
    if (exchange.closed) {
      // The client left (or a fault dropped the connection): there is nobody to answer.
      return;
    }
    const httpError = toHttpError(error);
    if (protocol === 'gemini') {
      const { status, body, headers } = toGeminiError(httpError);
      exchange.sendJson(status, body, headers);
      return;
    }
    const body = anthropic ? toAnthropicErrorBody(httpError, responseId) : httpError.toBody();
    exchange.sendJson(httpError.status, body, httpError.headers);
  }
}

async function handleOtherRequest(
  state: SimulatorState,
  request: IncomingMessage,
  response: ServerResponse,
  method: string,
  path: string,
): Promise<void> {
  try {
    const body = parseJsonBody(await readRequestBody(request));
    if (path === '/healthz' && (method === 'GET' || method === 'HEAD')) {
      sendJsonResponse(response, 200, { status: 'ok' });
    } else if (path.startsWith(CONTROL_PREFIX)) {
      handleControl(state, method, path, body, response);
    } else {
      throw invalidUrlError(method, path);
    }
  } catch (error) {
    if (!response.headersSent && !response.destroyed) {
      const httpError = toHttpError(error);
      sendJsonResponse(response, httpError.status, httpError.toBody());
    }
  }
}

/** The simulator's whole HTTP surface on plain node:http, so it never becomes the bottleneck of a benchmark. */
export function createRequestListener(state: SimulatorState): RequestListener {
  return (request, response) => {
    const url = request.url ?? '/';
    const queryStart = url.indexOf('?');
    const path = queryStart === -1 ? url : url.slice(0, queryStart);
    const method = request.method ?? 'GET';
    const handling =
      path.startsWith('/v1/') || path.startsWith(GEMINI_PATH_PREFIX)
        ? handleApiRequest(state, request, response, method, path, new URLSearchParams(queryStart === -1 ? '' : url.slice(queryStart + 1)))
        : handleOtherRequest(state, request, response, method, path);
    handling.catch((error: unknown) => {
      process.stderr.write(`${JSON.stringify({ msg: 'provider simulator request failed', error: String(error) })}\n`);
      response.destroy();
    });
  };
}
