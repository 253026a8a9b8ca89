import { isRecord } from '@dosrouter/shared';

/** One stored answer, as the cache keeps it (JSON). A reader skips a version it does not know (a miss). */
export interface CachedAnswer {
  readonly v: 1;
  readonly contentType: string;
  /** The answer's bytes as the attempt wrote them (UTF-8): a JSON body, or a stream's events through its end. */
  readonly body: string;
  /** The body went through the ingress's translation on its way to the client: a hit replays it through the same. */
  readonly translated: boolean;
  /** The configured model and the deployment that made it. */
  readonly model: string;
  readonly deployment: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** What it cost when it was made: what a hit saves. */
  readonly costUsd: number;
  /** Epoch ms. */
  readonly storedAt: number;
}

export function parseCachedAnswer(text: string): CachedAnswer | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(value) || value.v !== 1) return undefined;
  const { contentType, body, translated, model, deployment, promptTokens, completionTokens, costUsd, storedAt } = value;
  if (typeof contentType !== 'string' || typeof body !== 'string' || typeof translated !== 'boolean' || typeof model !== 'string' || typeof deployment !== 'string') return undefined;
  if (![promptTokens, completionTokens, costUsd, storedAt].every((number) => typeof number === 'number' && Number.isFinite(number) && number >= 0)) return undefined;
  return value as unknown as CachedAnswer;
}

/**
 * Whether an answer calls tools: a whole answer's or a stream's `tool_calls` array or finish reason, a Messages
 * `tool_use` block, or a Response's `function_call` item (an `api: responses` deployment's answer, passed through).
 * Read on the JSON text, where a quote inside a string value is escaped, so text that merely mentions these names
 * does not match.
 */
export function callsTools(body: string): boolean {
  return /"tool_calls"\s*:\s*\[|"finish_reason"\s*:\s*"tool_calls"|"type"\s*:\s*"(?:tool_use|function_call)"|"stop_reason"\s*:\s*"tool_use"/.test(body);
}
