import { isUtf8 } from 'node:buffer';
import type { Logger } from '@dosrouter/shared';
import type { Express, Request, RequestHandler, Response } from 'express';
import { planRequest, type PlanningDependencies } from '../proxy/plan-request.js';
import { contextOf } from '../request/request-context.js';
import { upstreamBodies } from '../proxy/ingress/openai-ingress.js';
import type { MessageTokensCount } from '../translate/anthropic-types.js';
import { geminiCountTokens, MAX_COUNT_BYTES } from '../upstream/gemini-count-tokens.js';
import { fromTransportError } from '../upstream/upstream-error.js';
import { estimateUsage } from '../usage/estimate-usage.js';
import { validateCountTokensRequest } from '../validation/messages-request.js';

/** Says how an answer's count was made: `native` (the backend counted) or `estimate` (the gateway did). */
export const TOKEN_COUNT_HEADER = 'x-dosrouter-token-count';

/**
 * `POST /v1/messages/count_tokens`: routed as the Messages request it counts would be (planRequest), without limits
 * or a usage record (counting costs nothing). When the first deployment of the plan is a `kind: anthropic` backend,
 * it counts (its answer, error included, passes through); a `kind: gemini` backend counts with its countTokens, and
 * when that fails the gateway estimates instead; otherwise the gateway estimates with its tokenizer
 * (usage/estimate-usage.ts: o200k_base, exact for OpenAI's models, an estimate for others).
 */
export function registerCountTokensRoute(
  app: Express,
  context: RequestHandler | RequestHandler[],
  body: RequestHandler,
  dependencies: PlanningDependencies & { readonly logger: Logger },
): void {
  app.post('/v1/messages/count_tokens', context, body, async function countTokensRoute(request: Request, response: Response) {
    const proxied = validateCountTokensRequest(request.body as Record<string, unknown>);
    const { config } = contextOf(response);
    const { plan, unavailable } = planRequest(dependencies, config, 'chat/completions', '/v1/messages/count_tokens', proxied, request, response);
    const deployment = plan.attempts[0];
    if (deployment === undefined) throw unavailable();
    const backend = config.backends.get(deployment.backend);
    response.setHeader('x-dosrouter-deployment', deployment.id);
    if (backend.kind === 'gemini') {
      // `metadata` is for routing rules only, as in the Messages ingress.
      const { metadata: _metadata, ...chat } = proxied.body;
      const counted = await geminiCountTokens(backend, deployment, chat);
      if (typeof counted === 'number') {
        const count: MessageTokensCount = { input_tokens: counted };
        response.setHeader(TOKEN_COUNT_HEADER, 'native');
        response.json(count);
        return;
      }
      dependencies.logger.warn('gemini countTokens failed; answering the estimate', { deployment: deployment.id, error: counted.failed });
    }
    if (backend.kind !== 'anthropic') {
      const count: MessageTokensCount = { input_tokens: estimateUsage('chat/completions', proxied.body, { answer: undefined }).promptTokens };
      response.setHeader(TOKEN_COUNT_HEADER, 'estimate');
      response.json(count);
      return;
    }
    const raw = response.locals.rawBody as Buffer | undefined;
    const bodyFor = upstreamBodies(request.body as Record<string, unknown>, raw !== undefined && isUtf8(raw) ? raw : undefined);
    const beta = request.headers['anthropic-beta'];
    let upstream;
    try {
      upstream = await backend.pool.request({
        path: backend.path('messages/count_tokens'),
        method: 'POST',
        headers: { ...backend.baseHeaders, ...(typeof beta === 'string' ? { 'anthropic-beta': beta } : {}), 'content-type': 'application/json' },
        body: bodyFor(deployment, false),
        signal: AbortSignal.timeout(backend.timeouts.firstByteMs || backend.timeouts.totalMs || 60_000),
      });
    } catch (error) {
      throw fromTransportError(error, deployment.id, undefined);
    }
    const text = await upstream.body.text();
    if (text.length > MAX_COUNT_BYTES) throw new Error(`count_tokens answer of ${text.length} characters from ${deployment.id}`);
    response.setHeader(TOKEN_COUNT_HEADER, 'native');
    response.status(upstream.statusCode).type('application/json').send(text);
  });
}
