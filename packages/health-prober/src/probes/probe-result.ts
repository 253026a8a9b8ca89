import type { BackendKind } from '@dosrouter/shared';

/** What one probe of one deployment saw. */
export interface ProbeResult {
  readonly ok: boolean;
  /** Milliseconds from sending the probe to its verdict. */
  readonly latencyMs: number;
  /** The backend's HTTP status, when it answered at all. */
  readonly status?: number;
  /** Why the probe failed, in words for logs and metrics. */
  readonly reason?: string;
  /** It failed because its deadline (`timeoutMs`) passed before the backend answered. */
  readonly timedOut?: true;
  /**
   * A passed probe saw something that looks like a config mistake but is no sign of ill health (a model list
   * without the deployment's id). Logged once per deployment, never a cause to drain it.
   */
  readonly warning?: string;
}

/** Where and how to reach a deployment's backend. Headers carry the backend's credential: never log them. */
export interface ProbeTarget {
  /** The backend's base URL: OpenAI-compatible with its version path (https://api.openai.com/v1), or Anthropic's origin. */
  readonly baseUrl: string;
  /** The protocol the backend speaks (`backends[].kind`); default `openai`. It decides the `models` and `chat` probes' requests. */
  readonly kind?: BackendKind;
  readonly headers: Readonly<Record<string, string>>;
  /** Query parameters every request to the backend carries (Azure's api-version). */
  readonly query?: Readonly<Record<string, string>>;
  /** The backend's own model id. */
  readonly upstreamModel: string;
  readonly timeoutMs: number;
}

/**
 * The URL of an operation (`models`, `chat/completions`, Gemini's `models/{model}:streamGenerateContent?alt=sse`) on the target's backend: the operation appended to
 * the base URL's path, the base URL's own query and the target's query kept (Azure's api-version), and any user
 * info dropped (the gateway never sends it either, and fetch refuses it with the URL in its message).
 */
export function operationUrl(target: Pick<ProbeTarget, 'baseUrl' | 'query'>, operation: string): string {
  const url = new URL(target.baseUrl);
  url.username = '';
  url.password = '';
  // An operation may carry its own query (Gemini's `alt=sse`), kept beside the base URL's.
  const [path, query] = operation.split('?', 2) as [string, string | undefined];
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path}`;
  for (const [name, value] of new URLSearchParams(query ?? '')) url.searchParams.set(name, value);
  for (const [name, value] of Object.entries(target.query ?? {})) url.searchParams.set(name, value);
  return url.toString();
}
