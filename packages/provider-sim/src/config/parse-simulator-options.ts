import type { JsonStyle } from '../delivery/json-style.js';
import { FAULT_KINDS, type FaultKind } from '../faults/fault-kinds.js';
import type { SimulatorOptions } from '../types.js';
import { describeIssues } from './describe-issues.js';
import { simulatorOptionsSchema } from './simulator-options-schema.js';

/** A model with every default filled in; see SimulatedModel for what each default is. */
export interface ResolvedModel {
  id: string;
  headersDelayMs: number;
  firstTokenDelayMs: number;
  interTokenDelayMs: number;
  outputTokens: number;
  contextWindow: number;
  /** Only the kinds with a rate above 0, in FAULT_KINDS order so draws are stable. */
  faultRates: ReadonlyArray<{ kind: FaultKind; rate: number }>;
  retryAfterSeconds: number;
  /** False: answers carry no usage at all, whatever the request asks. */
  reportsUsage: boolean;
  jsonStyle: JsonStyle;
  /** Chat requests ending with an assistant message get a 400. */
  rejectsPrefill: boolean;
  promptCacheMinimumTokens: number;
}

export interface ResolvedOptions {
  models: ReadonlyMap<string, ResolvedModel>;
  apiKey: string | undefined;
  seed: number;
  host: string;
  port: number;
  recordRequests: number;
  http2: boolean;
  tls: { readonly certFile: string; readonly keyFile: string } | undefined;
}

export const DEFAULT_OUTPUT_TOKENS = 16;
export const DEFAULT_CONTEXT_WINDOW = 128_000;
export const DEFAULT_PROMPT_CACHE_MINIMUM_TOKENS = 1024;

/** Validates options (from code or a config file) and fills in the documented defaults; throws naming the bad field. */
export function parseSimulatorOptions(input: unknown): ResolvedOptions {
  const parsed = simulatorOptionsSchema.safeParse(input);
  if (!parsed.success) {
    throw new Error(`Invalid simulator options: ${describeIssues(parsed.error)}`);
  }
  // Annotated so the build fails if the schema and the public SimulatorOptions type drift apart.
  const options: SimulatorOptions = parsed.data;
  const models = new Map<string, ResolvedModel>();
  for (const model of options.models) {
    const rates = model.faultRates ?? {};
    models.set(model.id, {
      id: model.id,
      headersDelayMs: model.headersDelayMs ?? 0,
      firstTokenDelayMs: model.firstTokenDelayMs ?? 0,
      interTokenDelayMs: model.interTokenDelayMs ?? 0,
      outputTokens: model.outputTokens ?? DEFAULT_OUTPUT_TOKENS,
      contextWindow: model.contextWindow ?? DEFAULT_CONTEXT_WINDOW,
      faultRates: FAULT_KINDS.flatMap((kind) => {
        const rate = rates[kind] ?? 0;
        return rate > 0 ? [{ kind, rate }] : [];
      }),
      retryAfterSeconds: model.retryAfterSeconds ?? 1,
      reportsUsage: model.reportsUsage ?? true,
      jsonStyle: model.jsonStyle ?? 'compact',
      rejectsPrefill: model.rejectsPrefill ?? false,
      promptCacheMinimumTokens: model.promptCacheMinimumTokens ?? DEFAULT_PROMPT_CACHE_MINIMUM_TOKENS,
    });
  }
  return {
    models,
    apiKey: options.apiKey,
    seed: options.seed ?? 1,
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    recordRequests: options.recordRequests ?? 100,
    http2: options.http2 ?? false,
    tls: options.tls,
  };
}
