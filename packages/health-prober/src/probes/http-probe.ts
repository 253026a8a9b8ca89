import { performance } from 'node:perf_hooks';
import { fetchFailure } from './fetch-failure.js';
import type { ProbeResult } from './probe-result.js';

interface HttpProbeCommon {
  /** Sent as given: pass the backend's credential only when its health endpoint wants one. Default none. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly expectedStatus: number;
  readonly timeoutMs: number;
}

/**
 * Either an absolute `url`, or a `path` resolved against the backend's `baseUrl` as a link is against a directory:
 * with baseUrl http://host:8000/v1, "/health" is http://host:8000/health (the server root, where vLLM, TGI and the
 * simulator serve theirs) and "models" is http://host:8000/v1/models. A path may not leave the base URL's origin.
 */
export type HttpProbeTarget = HttpProbeCommon & ({ readonly url: string } | { readonly baseUrl: string; readonly path: string });

/**
 * The `http` probe: GET one URL, and pass iff the status equals `expectedStatus`. It costs nothing on paid
 * providers. Redirects are not followed, so the status is the backend's own; the body is not read.
 */
export async function probeHttp(target: HttpProbeTarget, clock: () => number = () => performance.now()): Promise<ProbeResult> {
  const started = clock();
  const elapsed = (): number => Math.round((clock() - started) * 100) / 100;
  const url = resolveHttpProbeUrl(target);
  if (typeof url === 'string') return { ok: false, latencyMs: elapsed(), reason: url };
  let response: Response;
  try {
    response = await fetch(url, {
      headers: target.headers ?? {},
      redirect: 'manual',
      signal: AbortSignal.timeout(target.timeoutMs),
    });
  } catch (error) {
    return fetchFailure(error, target.timeoutMs, elapsed());
  }
  await response.body?.cancel();
  const status = response.status;
  return status === target.expectedStatus
    ? { ok: true, latencyMs: elapsed(), status }
    : { ok: false, latencyMs: elapsed(), status, reason: `status ${status}, expected ${target.expectedStatus}` };
}

/** The URL to probe, or why there is none (a string, so a misconfigured probe fails with a reason, not a throw). */
export function resolveHttpProbeUrl(target: HttpProbeTarget): URL | string {
  if ('url' in target) {
    return URL.canParse(target.url) ? new URL(target.url) : `invalid URL ${target.url}`;
  }
  // Exactly one trailing slash makes the base a directory, so "models" lands under it instead of replacing its last
  // segment ("v1"), whatever the configured base URL ends with.
  const base = `${target.baseUrl.replace(/\/+$/, '')}/`;
  if (!URL.canParse(base)) return `invalid base URL ${target.baseUrl}`;
  if (!URL.canParse(target.path, base)) return `invalid path ${target.path}`;
  const url = new URL(target.path, base);
  // An absolute or protocol-relative path ("//other.example/x") would send the headers, credential included, elsewhere.
  if (url.origin !== new URL(base).origin) return `path ${target.path} leaves ${new URL(base).origin}`;
  return url;
}
