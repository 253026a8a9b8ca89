import type { Writable } from 'node:stream';
import type { Logger } from '@dosrouter/shared';
import { latencyMsOf, totalsOf, ttftMsOf, type RequestOutcome } from '../proxy/request-outcome.js';

/**
 * Lines wait this long for the others of their batch: the destination's write is a trip to the thread pool, which
 * with one request in flight, once per answer, took the core from the next request (docs/benchmarks.md, "Short
 * requests (session 8)"); a few milliseconds' lines now share it.
 */
const FLUSH_DELAY_MS = 5;

/**
 * One JSON line per finished request — never the prompt, the answer or a credential — in the same shape as the
 * logger's lines (timestamp, level, service, message). It bypasses winston's per-line stream pipeline and
 * formats: lines are serialised once and written in batches, one write every `FLUSH_DELAY_MS` at most, to the
 * logger's own destination, so each comes after every line logged before it (a line logged after it, in the up to
 * `FLUSH_DELAY_MS` before its batch goes out, is written first). (winston per access line measured ~10% of the gateway's CPU per
 * request; see docs/decisions/0005-access-log-fast-path.md.)
 */
export class AccessLog {
  private pending: string[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  /** The last timestamp written, per millisecond: many lines share one under load, and formatting it is not free. */
  private timestampMs = 0;
  private timestamp = '';

  constructor(
    private readonly destination: Writable,
    private readonly service: string,
  ) {}

  static forLogger(logger: Logger, destination: Writable | undefined, service: string): AccessLog | undefined {
    if (!destination || !logger.isInfoEnabled()) return undefined;
    return new AccessLog(destination, service);
  }

  write(outcome: RequestOutcome, method: string, status: number, endedAt: number): void {
    // A continued stream is charged every attempt: its line shows the sums.
    const totals = outcome.charges ? totalsOf(outcome) : undefined;
    this.pending.push(
      JSON.stringify({
        timestamp: this.now(),
        level: 'info',
        service: this.service,
        message: 'request',
        requestId: outcome.requestId,
        method,
        route: outcome.route,
        status,
        model: outcome.model,
        requestedModel: outcome.requestedModel,
        deployment: outcome.deployment,
        tier: outcome.tier,
        rule: outcome.rule,
        strategy: outcome.strategy,
        stream: outcome.stream,
        attempts: outcome.attempts,
        recovered: outcome.charges?.filter((charge) => charge.cause !== 'hedge').map((charge) => ({ deployment: charge.deployment, cause: charge.cause })),
        hedgedOut: outcome.charges?.filter((charge) => charge.cause === 'hedge').map((charge) => charge.deployment),
        latencyMs: latencyMsOf(outcome, endedAt),
        ttftMs: ttftMsOf(outcome),
        queueWaitMs: outcome.queueWaitMs,
        connectionWaitMs: outcome.connectionWaitMs,
        promptTokens: totals?.promptTokens ?? outcome.usage?.promptTokens,
        completionTokens: totals?.completionTokens ?? outcome.usage?.completionTokens,
        cacheReadTokens: outcome.usage?.cacheReadTokens,
        cacheWriteTokens: outcome.usage?.cacheWriteTokens,
        costUsd: totals?.costUsd ?? outcome.costUsd,
        // The tokens are the gateway's count (the backend reported none): `true`, else left out, as the record's
        // `estimated`. Nothing is built for it: the outcome carries `true` or undefined, the totals a boolean.
        usageEstimated: (totals?.estimated ?? outcome.usageEstimated) || undefined,
        errorCode: outcome.errorCode,
        cache: outcome.cache,
        savedUsd: outcome.savedUsd,
      }),
    );
    this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_DELAY_MS);
  }

  private now(): string {
    const ms = Date.now();
    if (ms !== this.timestampMs) {
      this.timestampMs = ms;
      this.timestamp = new Date(ms).toISOString();
    }
    return this.timestamp;
  }

  /** Hands every pending line to the destination (also called before shutdown). */
  flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending.length === 0) return;
    const lines = this.pending;
    this.pending = [];
    if (!this.destination.writableEnded) this.destination.write(`${lines.join('\n')}\n`);
  }
}
