import { z } from 'zod';
import { DEFAULT_API_KEY_HEADER, DEFAULT_BASE_URL, backendApiSchema, backendKindSchema } from './backend-kind.js';
import { resolveProbeSettings } from './probe-settings.js';
import { responsesSchema } from './responses-schema.js';
import { routingSchema } from './routing-schema.js';

/** Byte sizes may be given as a number of bytes or a string such as "10mb", "512kb". */
const byteSize = z.union([
  z.number().int().positive(),
  z
    .string()
    .regex(/^\s*\d+(\.\d+)?\s*(b|kb|mb|gb)?\s*$/i, 'must be a byte size such as 1048576, "512kb" or "10mb"')
    .transform(parseByteSize),
]);

export function parseByteSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(text);
  if (!match) throw new Error(`not a byte size: ${text}`);
  const units: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
  return Math.floor(Number(match[1]) * (units[(match[2] ?? 'b').toLowerCase()] ?? 1));
}

const milliseconds = z.number().int().nonnegative();

export const capabilitySchema = z.enum(['streaming', 'tools', 'vision', 'documents', 'json_schema', 'reasoning', 'embeddings']);
export type Capability = z.infer<typeof capabilitySchema>;

/** Per-phase deadlines for one upstream attempt. 0 disables a phase's deadline. */
export const timeoutsSchema = z.strictObject({
  /** TCP + TLS connect. */
  connectMs: milliseconds.default(5_000),
  /**
   * Only for a backend with `maxConnections`: the longest a request waits for one of its connections before it fails
   * over to another deployment (503 `upstream_saturated` when none is left). A wait is never a backend fault.
   */
  connectionWaitMs: milliseconds.default(1_000),
  /** From sending the request to the backend's response headers. */
  firstByteMs: milliseconds.default(60_000),
  /**
   * Streams: from sending the request to the first content token (text, reasoning or tool-call arguments). Nothing
   * reaches the client before that token, so a deployment that misses it is failed over without the client noticing.
   */
  firstTokenMs: milliseconds.default(30_000),
  /** Longest gap between two body chunks of the backend's response (a stalled stream). */
  idleMs: milliseconds.default(30_000),
  /** Whole attempt, from send to the last byte. */
  totalMs: milliseconds.default(600_000),
});
export type Timeouts = z.infer<typeof timeoutsSchema>;

const perMillionTokens = z.number().nonnegative();

/**
 * The price of prompt tokens written to a provider's prompt cache: one price for every cache lifetime, or one per
 * lifetime where the provider has several (Anthropic: `{ '5m': 3.75, '1h': 6 }`, 1.25× and 2× the input price). A
 * lifetime left out costs what the other one does.
 */
export const cacheWritePricingSchema = z.union([
  perMillionTokens,
  z
    .strictObject({ '5m': perMillionTokens.optional(), '1h': perMillionTokens.optional() })
    .refine((prices) => prices['5m'] !== undefined || prices['1h'] !== undefined, { message: "name a price for '5m', '1h' or both" }),
]);
export type CacheWritePricing = z.infer<typeof cacheWritePricingSchema>;

export const pricingSchema = z.strictObject({
  /** USD per one million prompt tokens (the uncached ones, when the provider reports cache use). */
  inputPerMTok: perMillionTokens.default(0),
  /** USD per one million completion tokens. */
  outputPerMTok: perMillionTokens.default(0),
  /** USD per one million prompt tokens read from the provider's prompt cache; unset: inputPerMTok. */
  cacheReadPerMTok: perMillionTokens.optional(),
  /** USD per one million prompt tokens written to the provider's prompt cache; unset: inputPerMTok. */
  cacheWritePerMTok: cacheWritePricingSchema.optional(),
});
export type Pricing = z.infer<typeof pricingSchema>;

/** Per-minute and concurrency limits; unset means unlimited. */
export const rateLimitsSchema = z.strictObject({
  requestsPerMinute: z.number().int().positive().optional(),
  tokensPerMinute: z.number().int().positive().optional(),
  concurrency: z.number().int().positive().optional(),
});

/** When a deployment's circuit opens, and for how long. */
export const breakerSchema = z.strictObject({
  /** Open when at least this share of requests in the window failed (5xx, timeouts, connection errors)… */
  errorThresholdPercentage: z.number().min(1).max(100).default(50),
  /** …and the window holds at least this many requests. */
  volumeThreshold: z.number().int().positive().default(10),
  /** The rolling window the percentage is computed over. */
  windowMs: z.number().int().min(1_000).default(10_000),
  /** How long an open circuit stays open before one trial request may go through (half-open). */
  cooldownMs: z.number().int().min(100).default(30_000),
});
export type BreakerConfig = z.infer<typeof breakerSchema>;

export const probeKindSchema = z.enum(['models', 'chat', 'http']);
export type ProbeKindName = z.infer<typeof probeKindSchema>;

/**
 * How the health prober checks one deployment. Set under `prober.probe` for every deployment, and overridden field
 * by field under a backend's `probe` and then a model's `probe`.
 */
const probeFields = {
  /**
   * `models`: GET {baseUrl}/models; any 2xx means alive. Free on paid providers, hence the default. A model list
   *   without the deployment's upstream id is logged once as a warning, never drained for: Azure OpenAI lists base
   *   models, not deployment names, and llama.cpp a file path.
   * `chat`: one streamed completion of at most a few tokens; measures time to first token; costs tokens.
   * `http`: GET `path` (e.g. vLLM's /health) and expect `expectedStatus`. Free.
   */
  kind: probeKindSchema,
  /** false: never probed; the deployment keeps its configured weight as far as the prober is concerned. */
  enabled: z.boolean(),
  /** One probe per deployment per interval, cluster-wide, however many probers run. */
  intervalMs: z.number().int().min(100),
  /** A probe that takes longer failed. Must be shorter than the interval. */
  timeoutMs: z.number().int().min(50),
  /** `http` probes: a path resolved against the base URL ("/health" is at the server root), or an absolute URL. */
  path: z.string().min(1),
  /** `http` probes: the status that means healthy. */
  expectedStatus: z.number().int().min(100).max(599),
  /** `http` probes: send the backend's headers, credential included. Off by default: health endpoints rarely want it. */
  sendHeaders: z.boolean(),
  /** `chat` probes: give a reasoning model a budget to think in (it costs more tokens). */
  reasoning: z.boolean(),
};

export const probeSchema = z.strictObject({
  kind: probeFields.kind.default('models'),
  enabled: probeFields.enabled.default(true),
  intervalMs: probeFields.intervalMs.default(30_000),
  timeoutMs: probeFields.timeoutMs.default(10_000),
  path: probeFields.path.optional(),
  expectedStatus: probeFields.expectedStatus.default(200),
  sendHeaders: probeFields.sendHeaders.default(false),
  reasoning: probeFields.reasoning.default(false),
});
export type ProbeConfig = z.infer<typeof probeSchema>;

/** A backend's or a model's overrides of the probe defaults. */
export const probeOverridesSchema = z.strictObject(probeFields).partial();
export type ProbeOverrides = z.infer<typeof probeOverridesSchema>;

/**
 * How a `/v1/chat/completions` request is sent to a deployment of a `kind: anthropic` backend (Messages). Ignored for
 * `kind: openai` backends.
 */
export const anthropicDeploymentSchema = z.strictObject({
  /**
   * Messages requires `max_tokens`; a chat completion without `max_completion_tokens` or `max_tokens` gets this.
   * Default: the model's `maxOutputTokens`, else 4096.
   */
  maxTokens: z.number().int().positive().optional(),
  /**
   * Prompt caching for OpenAI clients, which cannot say `cache_control` themselves: `system` marks the last system
   * block, `tools` the last tool definition, so the prefix up to it is cached. Off by default: a cache write costs
   * more than fresh input (1.25× for `5m`, 2× for `1h`), a cache read a tenth of it.
   */
  cache: z
    .strictObject({
      system: z.boolean().default(false),
      tools: z.boolean().default(false),
      /** How long a cached prefix lives. */
      ttl: z.enum(['5m', '1h']).default('5m'),
    })
    .prefault({}),
});
export type AnthropicDeploymentConfig = z.infer<typeof anthropicDeploymentSchema>;

const modelNamePattern = /^[A-Za-z0-9][A-Za-z0-9._:/@-]*$/;

export const backendModelSchema = z.strictObject({
  /** The name clients send in `model`. Several backends may serve the same name: each is one deployment. */
  name: z.string().regex(modelNamePattern, 'model names use letters, digits and . _ : / @ -'),
  /** The backend's own model id; defaults to `name`. */
  upstreamModel: z.string().min(1).optional(),
  /** Relative share of traffic among the deployments of one model. */
  weight: z.number().nonnegative().default(1),
  pricing: pricingSchema.prefault({}),
  contextWindow: z.number().int().positive().default(128_000),
  /** The largest completion it produces; unset: not checked by the gateway (the backend decides). */
  maxOutputTokens: z.number().int().positive().optional(),
  capabilities: z.array(capabilitySchema).default(['streaming']),
  /** This deployment's own quota at its provider, enforced across every replica. */
  limits: rateLimitsSchema.default({}),
  /**
   * The most requests (streams included) the gateway sends this deployment at once, across every replica: its
   * capacity (a vLLM server's batch, a provider's concurrency). Past it a request goes to another deployment of the
   * model with room, else waits its fair turn (`saturation`) and, at the deadline, gets 503 `deployment_saturated`.
   * Never counted against the deployment's health. Absent (the default): no limit.
   */
  maxConcurrent: z.number().int().positive().optional(),
  /** Overrides of the `breakers` defaults for this deployment. */
  breaker: breakerSchema.partial().default({}),
  /** Overrides of the backend's and `prober.probe`'s probe settings for this deployment. */
  probe: probeOverridesSchema.default({}),
  /** A model of a `kind: anthropic` backend: how chat completions are translated to Messages for it. */
  anthropic: anthropicDeploymentSchema.prefault({}),
});
export type BackendModelConfig = z.infer<typeof backendModelSchema>;

/** A backend the gateway starts itself: the provider simulator, in-process (demo and local development). */
export const simulatedBackendSchema = z.strictObject({
  headersDelayMs: milliseconds.optional(),
  firstTokenDelayMs: milliseconds.optional(),
  interTokenDelayMs: milliseconds.optional(),
  outputTokens: z.number().int().positive().optional(),
});
export type SimulatedBackendConfig = z.infer<typeof simulatedBackendSchema>;

/**
 * HTTP/2 to a backend. `off` (the default, docs/decisions/0011): HTTP/1.1, one request per connection. `auto`: on an
 * https backend, HTTP/2 when the server chooses it in TLS's ALPN, else HTTP/1.1; on an http backend, HTTP/1.1
 * (nothing to negotiate without TLS). `on`: as `auto` on https; on http, HTTP/2 without TLS (h2c, prior knowledge:
 * the backend must speak it). An HTTP/2 connection carries up to `streamsPerConnection` requests at once (fewer if
 * the server says so in its SETTINGS); past that the pool opens another connection, so nothing queues behind a full one.
 */
export const backendHttp2Schema = z.strictObject({
  mode: z.enum(['off', 'auto', 'on']).default('off'),
  streamsPerConnection: z.number().int().min(1).max(10_000).default(100),
});
export type BackendHttp2Config = z.infer<typeof backendHttp2Schema>;

export const backendSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'backend names use letters, digits, _ and -'),
    /**
     * The protocol it speaks: `openai` (default), the OpenAI-compatible API; `anthropic`, Anthropic's Messages API
     * (`/v1/messages` below `baseUrl`, the credential in `x-api-key`, `anthropic-version: 2023-06-01`); `gemini`,
     * Google's Gemini API (`models/{model}:generateContent` below `baseUrl`, the credential in `x-goog-api-key`).
     */
    kind: backendKindSchema.default('openai'),
    /**
     * `kind: openai` only: the API its generation requests use. `chat` (default): Chat Completions; `responses`:
     * OpenAI's Responses API (`/responses` below `baseUrl`), which Responses requests pass through to untranslated and
     * chat completions and Messages requests reach translated. Embeddings and completions are not sent to it.
     */
    api: backendApiSchema.default('chat'),
    /**
     * `kind: openai`: the base URL including the version path, e.g. https://api.openai.com/v1. `kind: anthropic`: the
     * API's origin as the Anthropic SDKs take it, default https://api.anthropic.com. `kind: gemini`: the base URL
     * including the version path, default https://generativelanguage.googleapis.com/v1beta.
     */
    baseUrl: z.url({ protocol: /^https?$/ }).optional(),
    /** Instead of baseUrl: run the provider simulator in-process with these latencies. */
    simulator: simulatedBackendSchema.optional(),
    /**
     * The backend credential. Never taken from nor shown to clients. Empty means none: `apiKey: ${KEY:-}` with KEY
     * unset reads as YAML null.
     */
    apiKey: z
      .string()
      .nullish()
      .transform((key) => key || undefined),
    /**
     * Where the credential goes: `authorization` sends `Authorization: Bearer <key>` (OpenAI and most others);
     * any other header name sends the raw key in that header (Azure OpenAI uses `api-key`). Default: `authorization`,
     * `x-api-key` for `kind: anthropic`, `x-goog-api-key` for `kind: gemini`.
     */
    apiKeyHeader: z.string().toLowerCase().optional(),
    /** Extra headers sent upstream on every request (e.g. OpenRouter's HTTP-Referer; for `kind: anthropic`, `anthropic-beta`). */
    headers: z.record(z.string(), z.string()).default({}),
    /** Query parameters added to every upstream URL (e.g. Azure's api-version). */
    query: z.record(z.string(), z.string()).default({}),
    timeouts: timeoutsSchema.partial().default({}),
    /**
     * Ask for `stream_options.include_usage` on every stream so that tokens and cost are known; the extra usage
     * chunk is removed before the client sees it unless the client asked for it. Turn off for a backend that
     * rejects `stream_options`.
     */
    requestStreamUsage: z.boolean().default(true),
    /**
     * The most concurrent requests (HTTP/1.1 connections) to this backend. Absent (the default): no cap, the pool
     * grows with the traffic and shrinks when idle. When set, requests past it wait for a connection at most
     * `timeouts.connectionWaitMs`, measured, then fail over.
     */
    maxConnections: z.number().int().positive().optional(),
    http2: backendHttp2Schema.prefault({}),
    /** Overrides of `prober.probe` for every model of this backend. */
    probe: probeOverridesSchema.default({}),
    models: z.array(backendModelSchema).min(1, 'a backend serves at least one model'),
  })
  .refine((backend) => backend.api === 'chat' || backend.kind === 'openai', { message: 'api: responses is for kind: openai backends', path: ['api'] })
  .refine(
    (backend) => {
      const given = Number(backend.baseUrl !== undefined) + Number(backend.simulator !== undefined);
      // A `kind: anthropic` or `kind: gemini` backend with neither is its provider's own API.
      return given === 1 || (given === 0 && DEFAULT_BASE_URL[backend.kind] !== undefined);
    },
    { message: 'give exactly one of baseUrl or simulator', path: ['baseUrl'] },
  )
  .transform((backend) => ({
    ...backend,
    baseUrl: backend.baseUrl ?? (backend.simulator === undefined ? DEFAULT_BASE_URL[backend.kind] : undefined),
    apiKeyHeader: backend.apiKeyHeader ?? DEFAULT_API_KEY_HEADER[backend.kind],
  }));
export type BackendConfig = z.output<typeof backendSchema>;

/** What `x-dosrouter-cache` may ask for, per request. */
export const cacheRequestModes = ['use', 'bypass', 'refresh'] as const;

/**
 * The response cache (docs/configuration.md, "Response cache"): exact-match answers kept in Redis (cluster mode) or
 * in memory (embedded), and identical requests in flight sent to the backend once. Off unless `enabled`; then on for
 * the models, routes and keys that turn it on, or per request with `x-dosrouter-cache: use`.
 */
export const responseCacheSchema = z.strictObject({
  /** The master switch: off (the default), no request is looked up, stored or de-duplicated, and nothing is added to the request path. */
  enabled: z.boolean().default(false),
  /** Models (as routed: alias resolved, a group or virtual model by its name) whose requests use the cache. */
  models: z.array(z.string().min(1)).default([]),
  /** API routes whose requests use the cache, e.g. `/v1/chat/completions`. */
  routes: z.array(z.string().regex(/^\/v1\//, 'must be an API path such as /v1/chat/completions')).default([]),
  /** `key`: an answer is served only to the API key that caused it. `shared`: to any key. */
  scope: z.enum(['key', 'shared']).default('key'),
  /** How long an answer is kept after it is stored (a hit does not extend it). */
  ttlSeconds: z.number().int().min(1).max(30 * 24 * 3_600).default(3_600),
  /** Largest answer stored; a larger one is served and not kept. */
  maxEntryBytes: byteSize.default(1024 * 1024),
  /** The cache's byte budget: past it the least recently used answers are evicted. */
  maxBytes: byteSize.default(256 * 1024 * 1024),
  /** Only requests with `temperature: 0` or a `seed` are cached (embeddings always are). */
  requireDeterministic: z.boolean().default(true),
  /** Answers that call tools are cached too (off: an answer with tool calls is served and not kept). */
  toolCalls: z.boolean().default(false),
  /** A hit is admitted by the key's limits like any request (it counts one request; its tokens are given back). Off: hits skip admission. */
  hitsCountAgainstRateLimit: z.boolean().default(true),
  /** Identical cacheable requests in flight at once, on any replica, reach the backend once. */
  dedupe: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Cluster mode: the leader's lock lives this long unless renewed (every third of it while the leader is alive). */
      lockTtlMs: z.number().int().min(500).max(60_000).default(5_000),
      /** The longest a follower waits for the leader's answer to begin before it sends its own request. */
      waitMs: z.number().int().min(100).max(600_000).default(30_000),
    })
    .prefault({}),
}).refine((cache) => cache.maxEntryBytes <= cache.maxBytes, { message: 'must be at most maxBytes', path: ['maxEntryBytes'] });
export type ResponseCacheConfig = z.output<typeof responseCacheSchema>;

export const logLevelSchema = z.enum(['error', 'warn', 'info', 'debug']);

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().default('0.0.0.0'),
      port: z.number().int().min(0).max(65_535).default(8080),
      /** Largest accepted request body. */
      bodyLimit: byteSize.default(10 * 1024 * 1024),
      /**
       * The shape a body may have, checked in one pass over its bytes before it is parsed: a body past one of these
       * is refused with 400 `body_too_complex`, so that no single request can hold the event loop for long.
       */
      bodyLimits: z
        .strictObject({
          /** Deepest nesting of objects and arrays. Real tool schemas nest 20 to 30 levels. */
          maxDepth: z.number().int().min(1).max(10_000).default(64),
          /** Most keys in one object: a tool schema's `properties`, `logit_bias`, `metadata` (OpenAI allows 16 keys). */
          maxObjectKeys: z.number().int().positive().default(1_000),
          /** Most elements in one array (a conversation's messages, an embeddings batch, a token array). */
          maxArrayElements: z.number().int().positive().default(100_000),
          /** Most values in the whole body: every array element and object member, at every level. */
          maxValues: z.number().int().positive().default(500_000),
          /** Most keys in the whole body: 5,000 messages with tool calls carry about 50,000. */
          maxKeys: z.number().int().positive().default(100_000),
          /** Most distinct key names in the whole body: a request repeats a few dozen; tool schemas add their own. */
          maxDistinctKeys: z.number().int().positive().default(10_000),
        })
        .prefault({}),
      /**
       * After an error answered before the body was read (401, 404, 413, 415, a malformed request), the rest of the
       * body is read and dropped for a bounded time and size before the connection closes, as nginx's lingering
       * close does: a client still sending gets the answer, not a reset that its HTTP library reports as a
       * connection error (and retries).
       */
      lingeringClose: z
        .strictObject({
          /** The longest a refused connection stays open. */
          timeoutMs: milliseconds.min(1).default(5_000),
          /** The most bytes read and dropped from it. */
          maxBytes: byteSize.default(16 * 1024 * 1024),
        })
        .prefault({}),
      /** Largest accepted request header block. */
      maxHeaderBytes: z.number().int().positive().default(16 * 1024),
      /** A client must send its whole header block within this time. */
      headersTimeoutMs: milliseconds.default(10_000),
      /** A client must send its whole request (headers and body) within this time. */
      requestTimeoutMs: milliseconds.default(60_000),
      /** Idle keep-alive connections are closed after this time. */
      keepAliveTimeoutMs: milliseconds.default(65_000),
      /**
       * Connections the kernel queues for the gateway to accept. Node's default (511) overflowed when thousands of
       * streams opened at once; Linux caps it at net.core.somaxconn.
       */
      listenBacklog: z.number().int().positive().default(4_096),
      /** On SIGTERM, in-flight requests and streams get this long to finish. */
      shutdownGraceMs: milliseconds.default(30_000),
      /** HTTPS, from a certificate chain and private key in PEM files; a renewed pair is picked up without a restart. */
      tls: z
        .strictObject({
          certFile: z.string().min(1),
          keyFile: z.string().min(1),
          /** The HTTPS port (0 picks a free one). */
          port: z.number().int().min(0).max(65_535).default(8443),
          /** How often the files are checked for a renewal. */
          reloadIntervalMs: z.number().int().min(100).default(60_000),
        })
        .optional(),
      /** Browser clients from other origins: off unless origins are listed. */
      cors: z
        .strictObject({
          /** Exact origins such as https://app.example.com, or "*" for any. */
          origins: z.array(z.string().min(1)).min(1),
          maxAgeSeconds: z.number().int().nonnegative().default(600),
        })
        .optional(),
      /** Plain HTTP on `port`. false serves HTTPS only (needs `tls`). */
      http: z.boolean().default(true),
    })
    .refine((server) => server.http || server.tls !== undefined, { message: 'http: false needs tls, or nothing would listen', path: ['http'] })
    .prefault({}),
  logging: z
    .strictObject({
      level: logLevelSchema.default('info'),
      /** One JSON line per finished request. */
      accessLog: z.boolean().default(true),
    })
    .prefault({}),
  /** OpenTelemetry (docs/operations.md, Tracing). */
  telemetry: z
    .strictObject({
      tracing: z
        .strictObject({
          /**
           * One trace per request, exported over OTLP/HTTP. Unset: on when OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or
           * OTEL_EXPORTER_OTLP_ENDPOINT is set; OTEL_SDK_DISABLED=true turns it off whatever this says.
           */
          enabled: z.boolean().optional(),
          /**
           * The collector's traces URL, e.g. http://otel-collector:4318/v1/traces. Unset: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
           * else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces, else http://localhost:4318/v1/traces.
           */
          endpoint: z.url({ protocol: /^https?$/ }).optional(),
          /** Prompt and answer text on the spans (gen_ai.input.messages, gen_ai.output.messages). Default off. */
          captureContent: z.boolean().default(false),
        })
        .prefault({}),
    })
    .prefault({}),
  /** Defaults for every backend; a backend's own `timeouts` override them field by field. */
  upstream: z
    .strictObject({
      timeouts: timeoutsSchema.prefault({}),
    })
    .prefault({}),
  /** Cluster mode: where the replicas share their state. Without `url`, `sentinels` or `clusterNodes` the gateway runs embedded. */
  redis: z
    .strictObject({
      /** redis://[user:password@]host:port[/db], or rediss:// for TLS. REDIS_URL sets it. */
      url: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional(),
      /** Redis Sentinel instead of a URL: the sentinels and the master's name. */
      sentinels: z.array(z.strictObject({ host: z.string(), port: z.number().int().positive() })).optional(),
      sentinelMasterName: z.string().default('mymaster'),
      /** Redis Cluster instead of a URL: some of its nodes (the rest are discovered). */
      clusterNodes: z.array(z.strictObject({ host: z.string(), port: z.number().int().positive() })).optional(),
      sentinelPassword: z.string().optional(),
      password: z.string().optional(),
      /** Prefix of every key, so several deployments (and tests) can share one Redis. DOSROUTER_REDIS_PREFIX sets it. */
      keyPrefix: z.string().regex(/^[A-Za-z0-9._-]+$/).default('dosrouter'),
      /** Deadline of every Redis command; past it the request goes on in degraded mode. */
      commandTimeoutMs: milliseconds.min(1).default(250),
      /** How often a replica refreshes its snapshot (breakers, stats, in-flight) and writes its own. At most 1 s. */
      pollIntervalMs: z.number().int().min(50).max(1_000).default(1_000),
      /**
       * While Redis is unreachable: `open` enforces each limit's per-replica share locally;
       * `closed` refuses requests that have limits with 503.
       */
      failMode: z.enum(['open', 'closed']).default('open'),
    })
    .prefault({}),
  limits: z
    .strictObject({
      /**
       * Limits for every client key. Until API keys exist, a key is the Authorization header's value as sent
       * (hashed before it reaches Redis); requests without one share the `anonymous` key.
       */
      perKey: rateLimitsSchema.default({}),
      /** Completion tokens reserved for a request without max_tokens, settled to the real count afterwards. */
      completionTokensEstimate: z.number().int().nonnegative().default(256),
      /** A concurrency slot is held this long without renewal; a dead replica's slots free after it. */
      leaseMs: z.number().int().min(1_000).default(30_000),
      /**
       * Cluster mode: what a request's limits mean when Redis did not answer its admission within
       * `redis.commandTimeoutMs`, and for `1 s` after on that replica. Redis' late admission is cancelled either way.
       * `local` admits within this replica's share of each limit; `refuse` answers 503 `limits_unavailable`.
       * (An unreachable Redis follows `redis.failMode`.) See docs/operations.md, "Limits under a slow Redis".
       */
      onRedisTimeout: z
        .object({
          /** Requests, tokens and concurrency per minute. Default: `local` when `redis.failMode` is open, `refuse` when closed. */
          rateLimits: z.enum(['local', 'refuse']).optional(),
          /** Spend budgets. Default `refuse`: the spend a replica last saw may be stale by every other replica's. */
          budgets: z.enum(['local', 'refuse']).default('refuse'),
        })
        .prefault({}),
    })
    .prefault({}),
  /**
   * What a replica does when it is full: past `maxConcurrentRequests` forwarded requests, a request waits in a
   * bounded, fair (deficit round robin across keys), prioritised queue for at most `queueTimeoutMs`, then gets 503
   * with Retry-After; a key holding the most places of a full queue gets 429. Never counted against a backend.
   */
  saturation: z
    .strictObject({
      /** Forwarded requests (and streams) this replica serves at once. Absent (the default): no limit, no queue. */
      maxConcurrentRequests: z.number().int().positive().optional(),
      /** Requests that may wait at once. */
      maxWaiting: z.number().int().nonnegative().default(1_000),
      /** The longest a request waits for a slot. */
      queueTimeoutMs: z.number().int().positive().default(10_000),
      /** Honour a client's `x-dosrouter-priority: high | normal | low`; off: every request is `normal`. */
      priorityHeader: z.boolean().default(false),
    })
    .prefault({}),
  /** Routing weights published by the health prober. */
  weights: z
    .strictObject({
      /** A published table older than this is stale (the prober stopped): routing falls back to configured weights. */
      staleAfterMs: z.number().int().min(1_000).default(60_000),
    })
    .prefault({}),
  /** The health prober: a separate worker in cluster mode, timers inside the gateway in embedded mode. */
  prober: z
    .strictObject({
      /** Probe settings for every deployment; backends and models override them. */
      probe: probeSchema.prefault({}),
      /**
       * How often the weights are recomputed from the replicas' rolling stats between probes. Every recompute also
       * republishes the table, so it must be at most half of `weights.staleAfterMs`. Default: 10 s, or a third of
       * `weights.staleAfterMs` when that is shorter.
       */
      recomputeIntervalMs: z.number().int().min(100).optional(),
      /** Probes one prober process runs at once. */
      concurrency: z.number().int().positive().default(16),
      /** Embedded mode (no Redis): run the probes on timers inside the gateway. */
      embedded: z.boolean().default(true),
      /** The prober process's HTTP server: /healthz, /readyz, /metrics and the queue UI. PROBER_PORT and PROBER_HOST set them. */
      host: z.string().default('0.0.0.0'),
      port: z.number().int().min(0).max(65_535).default(9091),
    })
    .prefault({}),
  /** Circuit-breaker defaults for every deployment. */
  breakers: breakerSchema.prefault({}),
  backends: z.array(backendSchema).min(1, 'configure at least one backend'),
  /** Other names clients may use for a model: alias → model name. */
  aliases: z.record(z.string(), z.string()).default({}),
  /** Client API keys. */
  auth: z
    .strictObject({
      /**
       * `keys`: every /v1 request needs an API key. `open`: none is needed (local use only). `auto`: keys when
       * DOSROUTER_ADMIN_KEY is set (keys can then be created), open otherwise, with a warning at start.
       */
      mode: z.enum(['auto', 'keys', 'open']).default('auto'),
    })
    .prefault({}),
  /** Usage records and their daily totals (docs/operations.md, "Usage and budgets"). */
  usage: z
    .strictObject({
      /**
       * Record every proxied request's usage. Off: no records, no totals, and API keys' budgets are not enforced
       * (a warning says so at start).
       */
      enabled: z.boolean().default(true),
      /**
       * Longest an answer's end (its last bytes, `[DONE]`) waits for its usage record to reach Redis. Past it the
       * answer ends anyway and the record is retried from memory.
       */
      commitTimeoutMs: z.number().int().min(0).max(10_000).default(250),
      /** Records a replica keeps to retry while Redis fails; beyond it the oldest are dropped (and counted). */
      spoolLimit: z.number().int().min(0).default(100_000),
      /** Cluster mode: this replica also counts the usage stream into the daily totals (one consumer of the group). */
      aggregate: z.boolean().default(true),
      /** Cluster mode: records another consumer read but did not count for this long are claimed (a dead replica's). */
      claimIdleMs: z.number().int().min(1_000).default(30_000),
      /** Cluster mode: how long a counted record's id is remembered, so that a duplicate stream entry is not counted. */
      dedupeSeconds: z.number().int().min(60).default(600),
      /** Days of daily totals kept. */
      retentionDays: z.number().int().min(1).max(3_660).default(400),
    })
    .prefault({}),
  /** The read-only admin pages at `/dashboard` (docs/operations.md, "Dashboard"); they need DOSROUTER_ADMIN_KEY. */
  dashboard: z
    .strictObject({
      /** Serve `/dashboard` and `/dashboard/api/*` (only when an admin key is set: without one they are 404s). */
      enabled: z.boolean().default(true),
      /**
       * Finished requests each replica keeps for the "Recent requests" page (a ring: the oldest goes first). In cluster
       * mode each replica copies its newest ones to a Redis list of the same length in its periodic poll.
       */
      recentRequests: z.number().int().min(0).max(10_000).default(200),
      /**
       * Keep the last user message's first 500 characters with each recent request. Off: no prompt text is kept or
       * written to Redis.
       */
      includePrompts: z.boolean().default(false),
      /** Hours a dashboard login (its session cookie) lasts. */
      sessionHours: z.number().min(0.1).max(720).default(12),
    })
    .prefault({}),
  /** Embedded mode (no Redis): where API keys and usage totals are kept across restarts (docs/operations.md). */
  storage: z
    .strictObject({
      /**
       * The directory of the journals `keys.jsonl` and `usage.jsonl` (created when missing), relative to the working
       * directory. Unset: DOSROUTER_DATA_DIR, else `./data`, for a gateway started from its entry point (`pnpm
       * start`, the image); a gateway started in code keeps memory only. `null`: nothing is written, a restart
       * forgets keys and usage. Cluster mode ignores it: Redis keeps both.
       */
      dataDir: z.string().min(1).nullable().optional(),
    })
    .prefault({}),
  /** The response cache and in-flight de-duplication (off by default). */
  cache: responseCacheSchema.prefault({}),
  /** The Responses API's stored responses: `store`, `previous_response_id`, their TTL and size bounds. */
  responses: responsesSchema,
  /** How each request picks its deployment: strategies, rules, fallbacks, virtual models, retries (docs/routing.md). */
  routing: routingSchema,
  /** Reloading this file while running (SIGHUP always reloads it; docs/operations.md, "Reloading the config"). */
  config: z
    .strictObject({
      /** Also reload when the file changes (its directory is watched: editors' rename-replace, ConfigMap symlink swaps). */
      watch: z.boolean().default(false),
      /** Quiet time after the last change before the reload: one save is often several file events. */
      watchDebounceMs: z.number().int().min(0).max(60_000).default(500),
    })
    .prefault({}),
}).superRefine((config, context) => {
  // A hung backend is only failed over if its first-token deadline passes before the retry deadline does.
  const firstToken = config.upstream.timeouts.firstTokenMs;
  if (firstToken > 0 && config.routing.retry.deadlineMs <= firstToken) {
    context.addIssue({
      code: 'custom',
      message: `must be longer than upstream.timeouts.firstTokenMs (${firstToken}), or a stream that never starts is never failed over`,
      path: ['routing', 'retry', 'deadlineMs'],
    });
  }
  // Checks that span sections: each deployment's probe as its overrides combine, and the table's refresh rate.
  config.backends.forEach((backend, backendIndex) => {
    backend.models.forEach((model, modelIndex) => {
      try {
        resolveProbeSettings(config.prober.probe, backend.probe, model.probe);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message, path: ['backends', backendIndex, 'models', modelIndex, 'probe'] });
      }
    });
  });
  const { recomputeIntervalMs } = config.prober;
  if (recomputeIntervalMs !== undefined && recomputeIntervalMs * 2 > config.weights.staleAfterMs) {
    context.addIssue({
      code: 'custom',
      message: `must be at most half of weights.staleAfterMs (${config.weights.staleAfterMs}), or gateways would take a live table for stale`,
      path: ['prober', 'recomputeIntervalMs'],
    });
  }
}).transform((config) => ({
  ...config,
  prober: {
    ...config.prober,
    recomputeIntervalMs: config.prober.recomputeIntervalMs ?? Math.min(10_000, Math.floor(config.weights.staleAfterMs / 3)),
  },
}));
export type GatewayConfig = z.output<typeof configSchema>;
