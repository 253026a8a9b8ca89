import { z } from 'zod';

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

export const capabilitySchema = z.enum(['streaming', 'tools', 'vision', 'json_schema', 'reasoning', 'embeddings']);
export type Capability = z.infer<typeof capabilitySchema>;

/** Per-phase deadlines for one upstream attempt. 0 disables a phase's deadline. */
export const timeoutsSchema = z.object({
  /** TCP + TLS connect. */
  connectMs: milliseconds.default(5_000),
  /** From sending the request to the backend's response headers. */
  firstByteMs: milliseconds.default(60_000),
  /** Longest gap between two body chunks of the backend's response (a stalled stream). */
  idleMs: milliseconds.default(30_000),
  /** Whole attempt, from send to the last byte. */
  totalMs: milliseconds.default(600_000),
});
export type Timeouts = z.infer<typeof timeoutsSchema>;

export const pricingSchema = z.object({
  /** USD per one million prompt tokens. */
  inputPerMTok: z.number().nonnegative().default(0),
  /** USD per one million completion tokens. */
  outputPerMTok: z.number().nonnegative().default(0),
});
export type Pricing = z.infer<typeof pricingSchema>;

const modelNamePattern = /^[A-Za-z0-9][A-Za-z0-9._:/@-]*$/;

export const backendModelSchema = z.object({
  /** The name clients send in `model`. Several backends may serve the same name: each is one deployment. */
  name: z.string().regex(modelNamePattern, 'model names use letters, digits and . _ : / @ -'),
  /** The backend's own model id; defaults to `name`. */
  upstreamModel: z.string().min(1).optional(),
  /** Relative share of traffic among the deployments of one model. */
  weight: z.number().nonnegative().default(1),
  pricing: pricingSchema.prefault({}),
  contextWindow: z.number().int().positive().default(128_000),
  maxOutputTokens: z.number().int().positive().default(4_096),
  capabilities: z.array(capabilitySchema).default(['streaming']),
});
export type BackendModelConfig = z.infer<typeof backendModelSchema>;

/** A backend the gateway starts itself: the provider simulator, in-process (demo and local development). */
export const simulatedBackendSchema = z.object({
  headersDelayMs: milliseconds.optional(),
  firstTokenDelayMs: milliseconds.optional(),
  interTokenDelayMs: milliseconds.optional(),
  outputTokens: z.number().int().positive().optional(),
});
export type SimulatedBackendConfig = z.infer<typeof simulatedBackendSchema>;

export const backendSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'backend names use letters, digits, _ and -'),
    /** OpenAI-compatible base URL including the version path, e.g. https://api.openai.com/v1 */
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
     * any other header name sends the raw key in that header (Azure OpenAI uses `api-key`).
     */
    apiKeyHeader: z.string().toLowerCase().default('authorization'),
    /** Extra headers sent upstream on every request (e.g. OpenRouter's HTTP-Referer). */
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
    /** Keep-alive connections kept open to this backend. */
    maxConnections: z.number().int().positive().default(256),
    models: z.array(backendModelSchema).min(1, 'a backend serves at least one model'),
  })
  .refine((backend) => (backend.baseUrl === undefined) !== (backend.simulator === undefined), {
    message: 'give exactly one of baseUrl or simulator',
    path: ['baseUrl'],
  });
export type BackendConfig = z.infer<typeof backendSchema>;

export const logLevelSchema = z.enum(['error', 'warn', 'info', 'debug']);

export const configSchema = z.object({
  server: z
    .object({
      host: z.string().default('0.0.0.0'),
      port: z.number().int().min(0).max(65_535).default(8080),
      /** Largest accepted request body. */
      bodyLimit: byteSize.default(10 * 1024 * 1024),
      /** Largest accepted request header block. */
      maxHeaderBytes: z.number().int().positive().default(16 * 1024),
      /** A client must send its whole header block within this time. */
      headersTimeoutMs: milliseconds.default(10_000),
      /** A client must send its whole request (headers and body) within this time. */
      requestTimeoutMs: milliseconds.default(60_000),
      /** Idle keep-alive connections are closed after this time. */
      keepAliveTimeoutMs: milliseconds.default(65_000),
      /** On SIGTERM, in-flight requests and streams get this long to finish. */
      shutdownGraceMs: milliseconds.default(30_000),
    })
    .prefault({}),
  logging: z
    .object({
      level: logLevelSchema.default('info'),
      /** One JSON line per finished request. */
      accessLog: z.boolean().default(true),
    })
    .prefault({}),
  /** Defaults for every backend; a backend's own `timeouts` override them field by field. */
  upstream: z
    .object({
      timeouts: timeoutsSchema.prefault({}),
    })
    .prefault({}),
  backends: z.array(backendSchema).min(1, 'configure at least one backend'),
  /** Other names clients may use for a model: alias → model name. */
  aliases: z.record(z.string(), z.string()).default({}),
});
export type GatewayConfig = z.infer<typeof configSchema>;
