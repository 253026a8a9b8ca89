import { performance } from 'node:perf_hooks';
import { describeFetchFailure } from './fetch-failure.js';
import { operationUrl, type ProbeResult, type ProbeTarget } from './probe-result.js';

/**
 * The `models` probe: GET {baseUrl}/models, and the deployment's model must be listed. It costs nothing on paid
 * providers (no tokens), which is why it is the default kind.
 */
export async function probeModels(target: ProbeTarget, clock: () => number = () => performance.now()): Promise<ProbeResult> {
  const started = clock();
  const elapsed = (): number => Math.round((clock() - started) * 100) / 100;
  let response: Response;
  try {
    response = await fetch(operationUrl(target, 'models'), {
      headers: target.headers,
      signal: AbortSignal.timeout(target.timeoutMs),
    });
  } catch (error) {
    return { ok: false, latencyMs: elapsed(), reason: describeFetchFailure(error, target.timeoutMs) };
  }
  if (!response.ok) {
    await response.body?.cancel();
    return { ok: false, latencyMs: elapsed(), status: response.status, reason: `status ${response.status}` };
  }
  let listed: boolean;
  try {
    const body = (await response.json()) as { data?: { id?: unknown }[] };
    listed = Array.isArray(body.data) && body.data.some((model) => model.id === target.upstreamModel);
  } catch {
    return { ok: false, latencyMs: elapsed(), status: response.status, reason: 'model list is not JSON' };
  }
  return listed
    ? { ok: true, latencyMs: elapsed(), status: response.status }
    : { ok: false, latencyMs: elapsed(), status: response.status, reason: `model ${target.upstreamModel} is not listed` };
}
