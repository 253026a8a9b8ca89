import type { UsageTotals } from '../types.js';

/**
 * A usage object as an answer carries it on the wire. Embeddings report no completion_tokens. Taking the very object
 * that was serialized keeps the ledger honest: it sums what clients were told, not what the simulator computed.
 */
export interface ReportedUsage {
  /** All prompt tokens, cached ones included (OpenAI's accounting; a Messages answer's three input counts summed). */
  prompt_tokens: number;
  completion_tokens?: number;
  /** `cached_tokens`: prompt tokens read from the prompt cache (for a Messages answer, cache_read_input_tokens). */
  prompt_tokens_details?: { cached_tokens?: number };
  /** Prompt tokens written to the prompt cache: a Messages answer's cache_creation_input_tokens. */
  cache_write_tokens?: number;
}

/** How many request ids the per-id map keeps; a long benchmark must not grow the simulator without bound. */
export const MAXIMUM_LEDGER_REQUEST_IDS = 100_000;

function emptyTotals(): UsageTotals {
  return { answers: 0, promptTokens: 0, completionTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
}

function add(totals: UsageTotals, usage: ReportedUsage): void {
  totals.answers += 1;
  totals.promptTokens += usage.prompt_tokens;
  totals.completionTokens += usage.completion_tokens ?? 0;
  totals.cacheReadTokens += usage.prompt_tokens_details?.cached_tokens ?? 0;
  totals.cacheWriteTokens += usage.cache_write_tokens ?? 0;
}

/**
 * The usage the simulator reported to its clients: totals, and sums per incoming `x-request-id`, so a test can check
 * the gateway's own accounting against what the backend really said (a request id answered twice, e.g. resent by a
 * load balancer, sums both answers). The per-id map keeps the `capacity` ids answered most recently; the totals keep
 * everything.
 */
export class UsageLedger {
  private totals = emptyTotals();
  private readonly byRequestId = new Map<string, UsageTotals>();

  constructor(private readonly capacity = MAXIMUM_LEDGER_REQUEST_IDS) {}

  record(requestId: string, usage: ReportedUsage): void {
    add(this.totals, usage);
    const entry = this.byRequestId.get(requestId) ?? emptyTotals();
    add(entry, usage);
    // Re-inserting moves the id to the end of the Map's order, so the first key is always the least recently answered.
    this.byRequestId.delete(requestId);
    this.byRequestId.set(requestId, entry);
    if (this.byRequestId.size > this.capacity) {
      const oldest = this.byRequestId.keys().next().value;
      if (oldest !== undefined) {
        this.byRequestId.delete(oldest);
      }
    }
  }

  /** A copy: callers only ever see snapshots. */
  snapshotTotals(): UsageTotals {
    return { ...this.totals };
  }

  /** A copy, least recently answered id first. */
  snapshotByRequestId(): Record<string, UsageTotals> {
    // fromEntries defines own properties, so even an id such as "__proto__" is an ordinary key.
    return Object.fromEntries([...this.byRequestId].map(([requestId, entry]) => [requestId, { ...entry }]));
  }

  clear(): void {
    this.totals = emptyTotals();
    this.byRequestId.clear();
  }
}
