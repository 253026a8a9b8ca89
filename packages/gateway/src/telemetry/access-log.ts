import type { Logger } from '@dosrouter/shared';
import type { RequestOutcome } from '../proxy/request-outcome.js';

const round = (milliseconds: number): number => Math.round(milliseconds * 100) / 100;

/** One JSON line per finished request. Never the prompt, the answer or any credential. */
export function writeAccessLog(logger: Logger, outcome: RequestOutcome, method: string, status: number, endedAt: number): void {
  logger.info('request', {
    requestId: outcome.requestId,
    method,
    route: outcome.route,
    status,
    model: outcome.model,
    requestedModel: outcome.requestedModel,
    deployment: outcome.deployment,
    stream: outcome.stream,
    attempts: outcome.attempts,
    latencyMs: round(endedAt - outcome.receivedAt),
    ttftMs: outcome.firstTokenAt === undefined ? undefined : round(outcome.firstTokenAt - outcome.receivedAt),
    promptTokens: outcome.usage?.promptTokens,
    completionTokens: outcome.usage?.completionTokens,
    errorCode: outcome.errorCode,
  });
}
