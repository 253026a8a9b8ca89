import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { startSimulator, type SimulatedModel, type Simulator } from '@dosrouter/provider-sim';
import { configSchema, createLogger, type GatewayConfig } from '@dosrouter/shared';
import { seededRandom } from '../../../shared/src/test-support/seeded-random.js';
import { deletePrefixAt } from '../../../shared/src/test-support/redis.js';
import { startGateway, type RunningGateway } from '../gateway.js';
import { LogCapture } from './harness.js';

/** One backend of the fixture: a simulator of its own, serving every model the backend lists. */
export interface BackendSpec {
  readonly name: string;
  /** Raw backend model entries (`name`, `weight`, `pricing`, `capabilities`, …), validated with the rest. */
  readonly models: readonly Record<string, unknown>[];
  /** Simulator settings per served model id (latencies); every model answers 8 tokens unless told. */
  readonly simulated?: Readonly<Record<string, Partial<Omit<SimulatedModel, 'id'>>>>;
}

/** What `POST /v1/router/explain` answers, as far as the tests read it. */
export interface Explanation {
  target: { kind: 'model' | 'group' | 'virtual'; name: string };
  rule: string | null;
  strategy: { name: string; source: string };
  request: { stream: boolean; estimated_prompt_tokens: number; max_output_tokens: number | null; required_capabilities: string[] };
  classification: { tier: string; agentic: boolean; reasons: string[] } | null;
  steps: {
    model: string;
    source: string;
    strategy: string;
    candidates: { deployment: string; passed: boolean; filter: string | null; reason: string | null; mean_latency_ms: number | null }[];
    order: string[];
  }[];
  attempts: string[];
  session: { id: string; deployment?: string } | null;
  error?: { code: string; message: string };
  status?: number;
}

export type ChatBody = Omit<ChatCompletionCreateParamsNonStreaming, 'model'> & { model: string };

export interface RoutedAnswer {
  readonly completion: ChatCompletion;
  readonly headers: Headers;
}

export interface RoutingFixture {
  readonly gateway: RunningGateway;
  /** By backend name. */
  readonly simulators: Readonly<Record<string, Simulator>>;
  readonly client: OpenAI;
  /** One non-streaming chat completion through the official client, with the response headers. */
  chat(body: ChatBody, headers?: Record<string, string>): Promise<RoutedAnswer>;
  explain(body: Record<string, unknown>, headers?: Record<string, string>): Promise<Explanation>;
  /** The `model` the backend that answered (per `x-dosrouter-deployment`) last received. */
  lastUpstreamModel(headers: Headers): string | undefined;
  /** Requests every simulator has received so far. */
  backendRequests(): number;
  close(): Promise<void>;
}

/**
 * A gateway in front of several provider simulators, one per backend, routing with a seeded random source and
 * without probes (they would add requests). `document` is merged over the generated config before validation:
 * `routing`, `aliases`, `breakers`, `redis`, …; `redis.url` turns on cluster mode under a key prefix of its own.
 */
export async function startRoutingFixture(options: {
  backends: readonly BackendSpec[];
  document?: Record<string, unknown>;
  seed?: number;
}): Promise<RoutingFixture> {
  const simulators: Record<string, Simulator> = {};
  for (const backend of options.backends) {
    const ids = [...new Set(backend.models.map((model) => String(model.upstreamModel ?? model.name)))];
    simulators[backend.name] = await startSimulator({
      models: ids.map((id) => ({ id, outputTokens: 8, ...backend.simulated?.[id] })),
      recordRequests: 10,
    });
  }
  const document: Record<string, unknown> = {
    logging: { level: 'error', accessLog: false },
    prober: { embedded: false },
    backends: options.backends.map((backend) => ({ name: backend.name, baseUrl: simulators[backend.name]!.baseUrl, models: backend.models })),
    ...options.document,
  };
  const redis = document.redis as { url?: string; keyPrefix?: string } | undefined;
  if (redis?.url) document.redis = { keyPrefix: `test-routing-${randomBytes(4).toString('hex')}`, ...redis };
  const config: GatewayConfig = configSchema.parse(document);
  const logger = createLogger({ level: config.logging.level, service: 'gateway', destination: new LogCapture() });
  const gateway = await startGateway({ config, logger, port: 0, host: '127.0.0.1', random: seededRandom(options.seed ?? 7) });
  const client = new OpenAI({ apiKey: 'client-key', baseURL: `${gateway.url}/v1`, maxRetries: 0, timeout: 20_000 });
  return {
    gateway,
    simulators,
    client,
    chat: async (body, headers) => {
      const { data, response } = await client.chat.completions.create(body as ChatCompletionCreateParamsNonStreaming, { headers }).withResponse();
      return { completion: data, headers: response.headers };
    },
    explain: async (body, headers = {}) => {
      const response = await fetch(`${gateway.url}/v1/router/explain`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      if (response.status !== 200) throw new Error(`explain answered ${response.status}: ${await response.text()}`);
      return (await response.json()) as Explanation;
    },
    lastUpstreamModel: (headers) => {
      const backend = headers.get('x-dosrouter-deployment')?.split('/')[0] ?? '';
      return (simulators[backend]?.recentRequests().at(-1)?.body as { model?: string } | undefined)?.model;
    },
    backendRequests: () => Object.values(simulators).reduce((sum, simulator) => sum + simulator.stats.requests, 0),
    close: async () => {
      await gateway.close(1_000);
      await Promise.all(Object.values(simulators).map((simulator) => simulator.close()));
      if (config.redis.url) await deletePrefixAt(config.redis.url, config.redis.keyPrefix);
    },
  };
}

/**
 * Sends `count` requests with at most `concurrency` in flight and counts the values of one response header
 * (`x-dosrouter-deployment` unless told), in the order the answers came back.
 */
export async function tally(
  fixture: RoutingFixture,
  count: number,
  request: (index: number) => { body: ChatBody; headers?: Record<string, string> },
  { concurrency = 24, header = 'x-dosrouter-deployment' }: { concurrency?: number; header?: string } = {},
): Promise<{ counts: Record<string, number>; sequence: string[] }> {
  const sequence: string[] = new Array<string>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next;
      next += 1;
      const { body, headers } = request(index);
      const answer = await fixture.chat(body, headers);
      sequence[index] = answer.headers.get(header) ?? '(none)';
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const counts: Record<string, number> = {};
  for (const value of sequence) counts[value] = (counts[value] ?? 0) + 1;
  return { counts, sequence };
}
