import { randomUUID } from 'node:crypto';
import type { UsageCharge, UsageRecord } from '@dosrouter/shared';
import { latencyMsOf, totalsOf, ttftMsOf, type RequestOutcome } from '../proxy/request-outcome.js';

/** The usage record of a request that ended with `status` at `endedAt` (the outcome's clock). */
export function usageRecordOf(outcome: RequestOutcome, status: number, endedAt: number, replica: string): UsageRecord {
  const totals = totalsOf(outcome);
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
    promptTokens: totals.promptTokens,
    completionTokens: totals.completionTokens,
    ...(outcome.usage?.cacheReadTokens ? { cacheReadTokens: outcome.usage.cacheReadTokens } : {}),
    ...(outcome.usage?.cacheWriteTokens ? { cacheWriteTokens: outcome.usage.cacheWriteTokens } : {}),
    estimated: totals.estimated,
    costUsd: totals.costUsd,
    latencyMs: latencyMsOf(outcome, endedAt),
    ...(outcome.firstTokenAt !== undefined ? { ttftMs: ttftMsOf(outcome) } : {}),
    attempts: outcome.attempts,
    ...(outcome.charges ? { charges: chargesOf(outcome) } : {}),
    ...(outcome.cache === 'hit' ? { cacheHit: true, savedUsd: outcome.savedUsd ?? 0 } : {}),
    replica,
  };
}

/** A continued stream's attempts, each charged to the deployment that served it, the last one included. */
function chargesOf(outcome: RequestOutcome): UsageCharge[] {
  const charged = [...(outcome.charges ?? [])];
  const last = outcome.deployment === undefined ? [] : [{ deployment: outcome.deployment, model: outcome.model ?? '', usage: outcome.usage, usageEstimated: outcome.usageEstimated, costUsd: outcome.costUsd ?? 0 }];
  return [...charged, ...last].map((charge) => ({
    deployment: charge.deployment,
    model: charge.model,
    promptTokens: charge.usage?.promptTokens ?? 0,
    completionTokens: charge.usage?.completionTokens ?? 0,
    estimated: charge.usageEstimated === true,
    costUsd: charge.costUsd,
    ...('cause' in charge ? { endedBy: charge.cause } : {}),
  }));
}
