/** What one probe of one deployment saw. */
export interface ProbeResult {
  readonly ok: boolean;
  /** Milliseconds from sending the probe to its verdict. */
  readonly latencyMs: number;
  /** The backend's HTTP status, when it answered at all. */
  readonly status?: number;
  /** Why the probe failed, in words for logs and metrics. */
  readonly reason?: string;
}

/** Where and how to reach a deployment's backend. Headers carry the backend's credential: never log them. */
export interface ProbeTarget {
  /** The backend's OpenAI-compatible base URL, e.g. https://api.openai.com/v1 */
  readonly baseUrl: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Query parameters every request to the backend carries (Azure's api-version). */
  readonly query?: Readonly<Record<string, string>>;
  /** The backend's own model id. */
  readonly upstreamModel: string;
  readonly timeoutMs: number;
}

/** The URL of an OpenAI operation (`models`, `chat/completions`) on the target's backend, with its query. */
export function operationUrl(target: Pick<ProbeTarget, 'baseUrl' | 'query'>, operation: string): string {
  const url = `${target.baseUrl.replace(/\/+$/, '')}/${operation}`;
  const query = new URLSearchParams(target.query ?? {});
  return query.size > 0 ? `${url}?${query.toString()}` : url;
}
