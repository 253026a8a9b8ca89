import { randomUUID } from 'node:crypto';
import type { UsageRecord } from '@dosrouter/shared';
import { latencyMsOf, ttftMsOf, type RequestOutcome } from '../proxy/request-outcome.js';

/** The usage record of a request that ended with `status` at `endedAt` (the outcome's clock). */
export function usageRecordOf(outcome: RequestOutcome, status: number, endedAt: number, replica: string): UsageRecord {
  return {
    v: 1,
    id: randomUUID(),
    requestId: outcome.requestId,
    at: Date.now(),
    ...(outcome.keyId !== undefined ? { keyId: outcome.keyId } : {}),
    route: outcome.route,
    requestedModel: outcome.requestedModel ?? '',
    ...(outcome.model !== undefined ? { model: outcome.model } : {}),
    ...(outcome.deployment !== undefined ? { deployment: outcome.deployment } : {}),
    ...(outcome.tier !== undefined ? { tier: outcome.tier } : {}),
    stream: outcome.stream ?? false,
    status,
    ...(outcome.errorCode !== undefined ? { errorCode: outcome.errorCode } : {}),
    promptTokens: outcome.usage?.promptTokens ?? 0,
    completionTokens: outcome.usage?.completionTokens ?? 0,
    ...(outcome.usage?.cacheReadTokens ? { cacheReadTokens: outcome.usage.cacheReadTokens } : {}),
    ...(outcome.usage?.cacheWriteTokens ? { cacheWriteTokens: outcome.usage.cacheWriteTokens } : {}),
    estimated: outcome.usageEstimated === true,
    costUsd: outcome.costUsd ?? 0,
    latencyMs: latencyMsOf(outcome, endedAt),
    ...(outcome.firstTokenAt !== undefined ? { ttftMs: ttftMsOf(outcome) } : {}),
    attempts: outcome.attempts,
    replica,
  };
}
