import type { Deployment } from '@dosrouter/shared';
import { toGeminiRequest } from '../translate/openai-to-gemini.js';
import type { Backend } from './backend.js';

/** The largest answer read from a backend's token count (a count is a few bytes; an error a few hundred). */
export const MAX_COUNT_BYTES = 64 * 1024;

/** Why Gemini's count could not be had: the caller answers with the gateway's estimate instead. */
export interface CountFailure {
  readonly failed: string;
}

/**
 * Gemini counts the prompt of a chat request (a Messages count_tokens' Chat translation): `models/{model}:countTokens`
 * with the whole generateContent request, as `generateContentRequest` (its `model` named `models/{model}`), so that
 * the system instruction and the tools are counted as generateContent would bill them. Answers `totalTokens`, or a
 * {@link CountFailure} when the backend failed, answered an error status, or answered no count. Throws a 400
 * GatewayError, before any I/O, when the request says what Gemini cannot (the request itself would be refused).
 */
export async function geminiCountTokens(backend: Backend, deployment: Deployment, chat: Record<string, unknown>): Promise<number | CountFailure> {
  const request = toGeminiRequest(chat, { model: deployment.upstreamModel });
  const body = JSON.stringify({ generateContentRequest: { model: `models/${deployment.upstreamModel}`, ...request } });
  let text: string;
  let status: number;
  try {
    const upstream = await backend.pool.request({
      path: backend.path('countTokens', deployment.upstreamModel),
      method: 'POST',
      headers: { ...backend.baseHeaders, 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(backend.timeouts.firstByteMs || backend.timeouts.totalMs || 60_000),
    });
    status = upstream.statusCode;
    text = await upstream.body.text();
  } catch (error) {
    return { failed: error instanceof Error ? error.message : String(error) };
  }
  if (status !== 200) return { failed: `status ${status}` };
  if (text.length > MAX_COUNT_BYTES) return { failed: `an answer of ${text.length} characters` };
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    return { failed: 'an answer that is not JSON' };
  }
  const total = (answer as { totalTokens?: unknown } | null)?.totalTokens;
  return typeof total === 'number' && Number.isInteger(total) && total >= 0 ? total : { failed: 'an answer without totalTokens' };
}
