import type { JsonStyle } from './delivery/json-style.js';
import type { FaultKind } from './faults/fault-kinds.js';

export interface SimulatedModel {
  /** Model id the simulator serves, e.g. "sim-fast". */
  id: string;
  /** Delay before response headers. Default 0. */
  headersDelayMs?: number;
  /** Streaming: delay after headers before the first content token. Default 0. */
  firstTokenDelayMs?: number;
  /** Streaming: delay between tokens. Default 0. */
  interTokenDelayMs?: number;
  /** Completion length in tokens. Default 16; a request's max_tokens / max_completion_tokens caps it. */
  outputTokens?: number;
  /** Prompt tokens + max_tokens above this answer 400 context_length_exceeded. Default 128000. */
  contextWindow?: number;
  /** Probability per request of each fault, drawn from the seeded PRNG. Default none. */
  faultRates?: Partial<Record<FaultKind, number>>;
  /** Retry-After (seconds) sent with 429 and 503 faults. Default 1. */
  retryAfterSeconds?: number;
  /**
   * Whether answers carry usage. Default true. False stands in for backends (some vLLM or Ollama setups) that report
   * none, so the gateway has to estimate tokens itself: bodies have no `usage` field and streams send no usage chunk
   * (nor the per-chunk `"usage":null`), even when the request asks for `stream_options.include_usage`. The Messages
   * API then sends a message, message_start and message_delta without `usage`; the Gemini API no `usageMetadata`.
   */
  reportsUsage?: boolean;
  /**
   * How answers write their JSON, bodies and stream chunks alike. Default `compact`, as OpenAI sends it. `spaced` is
   * Python's `json.dumps` layout (`{"usage": {"prompt_tokens": 9, …}}`, one line); `indented` puts every value on its
   * own line, so each stream chunk goes out as several `data:` lines.
   */
  jsonStyle?: JsonStyle;
  /**
   * Chat requests whose last message is an assistant message (a prefill to continue) are refused with 400
   * `invalid_request_error`, as many backends do. Default false: the model continues the prefill (when the prefill
   * is the start of the answer it would give without it, the continuation is the rest of that answer).
   */
  rejectsPrefill?: boolean;
  /**
   * The shortest prompt prefix the simulated provider caches. Default 1024, what OpenAI and Anthropic's Sonnet and
   * Opus models need. Anthropic: a `cache_control` breakpoint whose prefix is shorter is not cached (no cache
   * write, no cache read). OpenAI chat: prompts shorter than this are never cached.
   */
  promptCacheMinimumTokens?: number;
}

export interface SimulatorOptions {
  models: SimulatedModel[];
  /** When set, /v1 requests must send `Authorization: Bearer <apiKey>`. Default: no authentication. */
  apiKey?: string;
  /** Seed of the PRNG used for rate-based fault draws. Default 1. */
  seed?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** How many recent requests to keep for inspection. Default 100. */
  recordRequests?: number;
  /**
   * Also speak HTTP/2 without TLS (h2c, prior knowledge) on the same port: a connection that opens with the HTTP/2
   * preface is served as HTTP/2, any other as HTTP/1.1. Default false (HTTP/1.1 only).
   */
  http2?: boolean;
  /**
   * Serve HTTPS with this certificate chain and private key (PEM files, read at start) instead of plain HTTP. With
   * `http2`, TLS's ALPN offers h2 and http/1.1 and each connection speaks what its client chose. Default: plain HTTP.
   */
  tls?: { certFile: string; keyFile: string };
}

/** One queued fault: the next `count` requests for `model` (any model when omitted) get it. */
export interface FaultInjection {
  kind: FaultKind;
  /** Default 1. */
  count?: number;
  model?: string;
  /** Overrides the model's retryAfterSeconds for 429 and 503 faults. */
  retryAfterSeconds?: number;
  /** Also sends `retry-after-ms` with 429 and 503 faults. */
  retryAfterMs?: number;
  /** slow_first_token: extra delay before the first token. Default 5000. */
  delayMs?: number;
  /**
   * stream_cut, stream_stall and malformed_chunk on a stream: act after this many token events (per choice position
   * when n > 1) instead of about half way (cut), after three events (stall) or half way (malformed). Streams shorter
   * than that run to their end untouched by a cut or a stall.
   */
  afterTokens?: number;
}

/** How the simulated backend fails while it is down: an error answer, a reset connection, or no answer at all. */
export type OutageMode = 'error' | 'reset' | 'hang';

/** The whole backend is down: every /v1 request (models included) gets this, before authentication and routing. */
export interface Outage {
  mode: OutageMode;
  /** 'error' only: the status answered, 400–599. Default 503. */
  status?: number;
  /** 'error' only: sent as `retry-after` when given. */
  retryAfterSeconds?: number;
}

/** Usage the simulator reported to its clients, summed over the answers that carried it. */
export interface UsageTotals {
  /** Answers written to the end that carried usage: a non-streamed body with `usage`, or a stream's usage chunk. */
  answers: number;
  /** All prompt tokens, cached ones included; for a Messages answer input_tokens + both cache counts. */
  promptTokens: number;
  /** 0 for embeddings, which report prompt tokens only. */
  completionTokens: number;
  /** Of promptTokens, those read from the prompt cache (OpenAI's cached_tokens, Anthropic's cache_read_input_tokens). */
  cacheReadTokens: number;
  /** Of promptTokens, those written to the prompt cache (Anthropic's cache_creation_input_tokens). */
  cacheWriteTokens: number;
}

export interface SimulatorStats {
  /** Requests received on /v1 routes. */
  requests: number;
  /** Responses we finished writing, errors included. */
  completed: number;
  /** Requests whose client closed the connection before we finished. */
  aborted: number;
  /** Applied faults by kind; `outage` counts the requests an outage answered. */
  faults: Record<string, number>;
  /** Requests by the model they named. */
  byModel: Record<string, number>;
  /** Requests on /v1 routes by HTTP version: "1.1", "2.0". */
  byHttpVersion: Record<string, number>;
  /** Usage reported to clients; aborted answers, errors and answers broken by a fault are not in it. */
  usage: UsageTotals;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** Header names are lower-case; repeated headers are joined with ", ". */
  headers: Record<string, string>;
  /** The parsed JSON body, or undefined when there was none or it was not JSON. */
  body: unknown;
  /** Epoch milliseconds. */
  receivedAt: number;
  /** "1.1" or "2.0". */
  httpVersion: string;
}

export interface Simulator {
  readonly port: number;
  /** e.g. "http://127.0.0.1:43123/v1" */
  readonly baseUrl: string;
  /** Queues a fault for the next matching requests, ahead of any rate-based draw. */
  injectFaults(fault: FaultInjection): void;
  clearFaults(): void;
  /** Takes the whole backend down until it is called with undefined; validated like a fault, throws on a bad field. */
  setOutage(outage: Outage | undefined): void;
  /** The current outage, or undefined while the backend is up. */
  readonly outage: Outage | undefined;
  /** A snapshot of the live counters, taken on every read. */
  readonly stats: SimulatorStats;
  /** Newest last. */
  recentRequests(): RecordedRequest[];
  /**
   * The reported usage per `x-request-id` the clients sent ("" for requests without one), for up to 100,000 ids: the
   * ids answered least recently are dropped first, though their usage stays in `stats.usage`. A snapshot.
   */
  usageByRequestId(): Record<string, UsageTotals>;
  /** Clears stats (usage included), queued faults, the outage, recorded requests and the prompt cache, and re-seeds the fault PRNG. */
  reset(): void;
  /** Closes the server and destroys open sockets, hung ones included. */
  close(): Promise<void>;
}
