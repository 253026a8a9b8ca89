import type { TokenUsage } from '../upstream/sse-scanner.js';

/**
 * What happened to one client request, filled in as it goes and read once when the response is over
 * (access log line and metrics). Times are milliseconds from performance.now().
 */
export interface RequestOutcome {
  readonly requestId: string;
  readonly route: string;
  readonly receivedAt: number;
  /** The model the client asked for, as sent. */
  requestedModel?: string;
  /** The configured model that answered (an alias resolves to it). */
  model?: string;
  /** Virtual models: the tier the classifier chose. */
  tier?: string;
  /** The routing rule that matched, and the strategy that ordered the deployments. */
  rule?: string;
  strategy?: string;
  /** What the answer cost at the catalog's prices: from usage when the backend reported it. */
  costUsd?: number;
  deployment?: string;
  stream?: boolean;
  attempts: number;
  /** When the last attempt's upstream request was sent, and when its response ended. */
  upstreamStartedAt?: number;
  upstreamEndedAt?: number;
  firstTokenAt?: number;
  usage?: TokenUsage;
  /** The tokens in `usage` were counted by the gateway's tokenizer: the backend reported none. */
  usageEstimated?: boolean;
  /** Set once the request was validated for forwarding: it gets a usage record. */
  accounted?: boolean;
  /** Its usage record was committed before the answer ended: none is written again when it closes. */
  usageRecorded?: boolean;
  /**
   * The proxy handler is still at work (an attempt settling its usage after the client left): the record is then
   * written by the handler when it is done, with `closed` noted by the response's close.
   */
  handling?: boolean;
  closed?: { readonly status: number; readonly at: number };
  /** The API key's id, when keys are required. */
  keyId?: string;
  /** The error code a client received, or the reason a stream ended early. */
  errorCode?: string;
}

export function createOutcome(requestId: string, route: string, receivedAt: number): RequestOutcome {
  return { requestId, route, receivedAt, attempts: 0 };
}

/** The outcome the request-context middleware attached to this response. */
export function outcomeOf(response: { locals: Record<string, unknown> }): RequestOutcome {
  const outcome = response.locals.outcome as RequestOutcome | undefined;
  if (!outcome) throw new Error('request context middleware is not installed');
  return outcome;
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
