import { performance } from 'node:perf_hooks';
import { operationPath } from '@dosrouter/shared';
import { fetchFailure } from './fetch-failure.js';
import { operationUrl, type ProbeResult, type ProbeTarget } from './probe-result.js';

/**
 * The `models` probe: GET {baseUrl}/models (a `kind: anthropic` backend's /v1/models, a `kind: gemini` backend's
 * {baseUrl}/models with x-goog-api-key); any 2xx answer means the
 * backend is alive. It costs nothing on paid
 * providers (no tokens), which is why it is the default kind. Whether the deployment's model is listed is only a
 * warning: many healthy servers list other ids than the one requests use (Azure OpenAI lists base models, not
 * deployment names; llama.cpp's llama-server lists the model's file path unless started with --alias), and draining
 * them for it would take every such deployment out of routing.
 */
export async function probeModels(target: ProbeTarget, clock: () => number = () => performance.now()): Promise<ProbeResult> {
  const started = clock();
  const elapsed = (): number => Math.round((clock() - started) * 100) / 100;
  let response: Response;
  try {
    // Anthropic's list is GET /v1/models below its origin, with the same x-api-key and anthropic-version.
    response = await fetch(operationUrl(target, operationPath(target.kind ?? 'openai', 'models')!), {
      headers: target.headers,
      signal: AbortSignal.timeout(target.timeoutMs),
    });
  } catch (error) {
    return fetchFailure(error, target.timeoutMs, elapsed());
  }
  if (!response.ok) {
    await response.body?.cancel();
    return { ok: false, latencyMs: elapsed(), status: response.status, reason: `status ${response.status}` };
  }
  let warning: string | undefined;
  try {
    // Gemini lists `{models: [{name: 'models/<id>'}]}` (one page of them: a model on a later page is warned about).
    const body = (await response.json()) as { data?: { id?: unknown }[]; models?: { name?: unknown }[] };
    const listed =
      (Array.isArray(body.data) && body.data.some((model) => model.id === target.upstreamModel)) ||
      (Array.isArray(body.models) && body.models.some((model) => model.name === `models/${target.upstreamModel}`));
    if (!listed) warning = `model ${target.upstreamModel} is not listed by GET /models; if requests fail, check upstreamModel`;
  } catch {
    warning = 'the model list is not JSON';
  }
  return { ok: true, latencyMs: elapsed(), status: response.status, ...(warning === undefined ? {} : { warning }) };
}
