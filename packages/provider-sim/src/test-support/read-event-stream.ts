/** How a raw SSE response ended: normally, with a broken connection, or by going silent. */
export type StreamEnding = 'ended' | 'broken' | 'idle';

export interface EventStreamResult {
  status: number;
  headers: Headers;
  /** The `data:` payloads in order, `[DONE]` included. */
  events: string[];
  /** The `event:` name of each payload in `events`, '' for a payload sent without one. */
  eventNames: string[];
  ending: StreamEnding;
}

export interface ReadOptions {
  headers?: Record<string, string>;
  /** Give up (and close the connection) when no byte arrives for this long. Default 5 s: more than a busy machine pauses. */
  idleTimeoutMs?: number;
}

function parseEvents(text: string): { events: string[]; eventNames: string[] } {
  const events: string[] = [];
  const eventNames: string[] = [];
  for (const block of text.split('\n\n')) {
    const lines = block.split('\n');
    const name = lines.find((line) => line.startsWith('event: '))?.slice('event: '.length) ?? '';
    for (const line of lines.filter((candidate) => candidate.startsWith('data: '))) {
      events.push(line.slice('data: '.length));
      eventNames.push(name);
    }
  }
  return { events, eventNames };
}

/** POSTs a JSON body and reads the SSE answer byte by byte, recording how the stream ended instead of throwing. */
export async function postAndReadEvents(url: string, body: unknown, options: ReadOptions = {}): Promise<EventStreamResult> {
  const controller = new AbortController();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: JSON.stringify(body),
    signal: controller.signal,
  });
  if (response.body === null) {
    throw new Error('the response has no body');
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let ending: StreamEnding = 'ended';
  try {
    for (;;) {
      let idleTimer: NodeJS.Timeout | undefined;
      const idle = new Promise<'idle'>((resolve) => {
        idleTimer = setTimeout(() => resolve('idle'), options.idleTimeoutMs ?? 5_000);
      });
      const result = await Promise.race([reader.read(), idle]);
      clearTimeout(idleTimer);
      if (result === 'idle') {
        ending = 'idle';
        controller.abort();
        break;
      }
      if (result.done) {
        break;
      }
      text += decoder.decode(result.value, { stream: true });
    }
  } catch {
    ending = 'broken';
  }
  return { status: response.status, headers: response.headers, ...parseEvents(text), ending };
}

export interface JsonResult {
  status: number;
  headers: Headers;
  body: unknown;
}

export async function requestJson(
  url: string,
  options: { method?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<JsonResult> {
  const requestBody = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const response = await fetch(url, {
    method: options.method ?? (requestBody === undefined ? 'GET' : 'POST'),
    headers: { 'content-type': 'application/json', ...options.headers },
    ...(requestBody === undefined ? {} : { body: requestBody }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text.length > 0 ? (JSON.parse(text) as unknown) : undefined };
}
