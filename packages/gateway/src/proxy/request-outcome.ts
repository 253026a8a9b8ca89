import type { TokenUsage } from '../upstream/sse-scanner.js';

/**
 * An attempt before the last that reached the client and was charged: a stream that broke after its first text
 * and that another attempt continued (`cause`: how it broke).
 */
export interface AttemptCharge {
  readonly deployment: string;
  readonly model: string;
  readonly usage?: TokenUsage;
  readonly usageEstimated?: boolean;
  readonly costUsd: number;
  readonly cause: string;
}

/**
 * What happened to one client request: the read model its RequestContext keeps up to date through its transitions
 * and that the access line, the metrics and the usage record are made of. Times are milliseconds from the
 * gateway's clock (performance.now()).
 */
export interface RequestOutcome {
  readonly requestId: string;
  readonly route: string;
  readonly receivedAt: number;
  /** The model the client asked for, as sent. */
  readonly requestedModel?: string;
  /** The configured model that answered (an alias resolves to it). */
  readonly model?: string;
  /** Virtual models: the tier the classifier chose. */
  readonly tier?: string;
  /** The routing rule that matched, and the strategy that ordered the deployments. */
  readonly rule?: string;
  readonly strategy?: string;
  /** What the answer cost at the catalog's prices: from usage when the backend reported it. */
  readonly costUsd?: number;
  readonly deployment?: string;
  readonly stream?: boolean;
  readonly attempts: number;
  /** When the last attempt's upstream request was sent, and when its response ended. */
  readonly upstreamStartedAt?: number;
  readonly upstreamEndedAt?: number;
  readonly firstTokenAt?: number;
  /** A continued stream: when its first token reached the client (firstTokenAt is the last attempt's). */
  readonly clientFirstTokenAt?: number;
  /** Attempts before the last that a continued stream charged, oldest first (absent: none). */
  readonly charges?: readonly AttemptCharge[];
  /** Milliseconds the request waited in the replica's saturation queue (absent: none). */
  readonly queueWaitMs?: number;
  /** Milliseconds the attempts waited for a connection to a backend that `maxConnections` caps (absent: none). */
  readonly connectionWaitMs?: number;
  readonly usage?: TokenUsage;
  /** The tokens in `usage` were counted by the gateway's tokenizer: the backend reported none. */
  readonly usageEstimated?: boolean;
  /** The API key's id, when keys are required. */
  readonly keyId?: string;
  /** The error code a client received, or the reason a stream ended early. */
  readonly errorCode?: string;
  /** The response cache was on for the request: served from it (`hit`), forwarded (`miss`), or neither (`bypass`). */
  readonly cache?: 'hit' | 'miss' | 'bypass';
  /** A hit: what the answer cost when it was first made (the hit itself costs 0). */
  readonly savedUsd?: number;
  /** Each attempt that ended, oldest first: its deployment and `ok` or its error code (absent: none ended yet). */
  readonly attemptLog?: readonly AttemptEnd[];
}

/** How one attempt ended. */
export interface AttemptEnd {
  readonly deployment: string;
  /** `ok`, or the attempt's error code (`upstream_timeout`, `circuit_open`, …). */
  readonly outcome: string;
}

const round = (milliseconds: number): number => Math.round(milliseconds * 100) / 100;

/** Milliseconds from receiving the request to `endedAt`, to 0.01 ms: what the access log and usage records report. */
export function latencyMsOf(outcome: RequestOutcome, endedAt: number): number {
  return round(endedAt - outcome.receivedAt);
}

/** Milliseconds from receiving the request to its first token, when there was one. */
export function ttftMsOf(outcome: RequestOutcome): number | undefined {
  const firstTokenAt = outcome.clientFirstTokenAt ?? outcome.firstTokenAt;
  return firstTokenAt === undefined ? undefined : round(firstTokenAt - outcome.receivedAt);
}

/** Every charged attempt's usage and cost added to the last one's: what a request used in all. */
export function totalsOf(outcome: RequestOutcome): { promptTokens: number; completionTokens: number; costUsd: number; estimated: boolean } {
  let promptTokens = outcome.usage?.promptTokens ?? 0;
  let completionTokens = outcome.usage?.completionTokens ?? 0;
  let costUsd = outcome.costUsd ?? 0;
  let estimated = outcome.usageEstimated === true;
  for (const charge of outcome.charges ?? []) {
    promptTokens += charge.usage?.promptTokens ?? 0;
    completionTokens += charge.usage?.completionTokens ?? 0;
    costUsd += charge.costUsd;
    estimated ||= charge.usageEstimated === true;
  }
  return { promptTokens, completionTokens, costUsd: Number(costUsd.toFixed(10)), estimated };
}
