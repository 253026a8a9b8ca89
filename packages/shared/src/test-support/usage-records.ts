/** Test support: usage records as a gateway writes them. Not exported from the package. */
import { randomUUID } from 'node:crypto';
import type { UsageRecord } from '../usage/usage-record.js';

/** A successful request of key `key_a` on `fast` (10 + 5 tokens, $0.000123), now; `fields` replace any of it. */
export function usageRecord(fields: Partial<UsageRecord> = {}): UsageRecord {
  return {
    v: 1,
    id: randomUUID(),
    requestId: randomUUID(),
    at: Date.now(),
    keyId: 'key_a',
    route: '/v1/chat/completions',
    requestedModel: 'fast',
    model: 'fast',
    deployment: 'sim/fast',
    stream: false,
    status: 200,
    promptTokens: 10,
    completionTokens: 5,
    estimated: false,
    costUsd: 0.000123,
    latencyMs: 12,
    attempts: 1,
    replica: 'r1',
    ...fields,
  };
}
