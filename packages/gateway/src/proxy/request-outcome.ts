import type { TokenUsage } from '../upstream/sse-scanner.js';

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
}

const round = (milliseconds: number): number => Math.round(milliseconds * 100) / 100;

/** Milliseconds from receiving the request to `endedAt`, to 0.01 ms: what the access log and usage records report. */
export function latencyMsOf(outcome: RequestOutcome, endedAt: number): number {
  return round(endedAt - outcome.receivedAt);
}

/** Milliseconds from receiving the request to its first token, when there was one. */
export function ttftMsOf(outcome: RequestOutcome): number | undefined {
  return outcome.firstTokenAt === undefined ? undefined : round(outcome.firstTokenAt - outcome.receivedAt);
}
