import { randomUUID } from 'node:crypto';
import type OpenAI from 'openai';

/** How one request of a load run ended. */
export interface RequestOutcome {
  index: number;
  requestId: string;
  stream: boolean;
  ok: boolean;
  /** The x-dosrouter-replica response header, when the gateway sends it. */
  replicaHeader: string | undefined;
  error: string | undefined;
  startedAt: number;
  endedAt: number;
}

export interface LoadOptions {
  concurrency: number;
  /** Requests to send at most. */
  total: number;
  /** Stop issuing new requests once this returns true (the ones in flight finish). */
  until?: () => boolean;
  /** Sends request `index` with the given id; resolves with the x-dosrouter-replica header; rejects when it failed. */
  send: (index: number, requestId: string) => Promise<string | undefined>;
  /** Whether request `index` is a stream (default: none is). */
  isStream?: (index: number) => boolean;
  /** Called after each request settles, with how many have. */
  onSettled?: (settled: number) => void;
}

/** A bounded closed-loop load: `concurrency` workers, each sending its next request when the last one settled. */
export async function runLoad(options: LoadOptions): Promise<RequestOutcome[]> {
  const outcomes: RequestOutcome[] = [];
  let issued = 0;
  const worker = async (): Promise<void> => {
    while (issued < options.total && !(options.until?.() ?? false)) {
      const index = issued;
      issued += 1;
      const requestId = `load-${index}-${randomUUID()}`;
      const startedAt = performance.now();
      const stream = options.isStream?.(index) ?? false;
      try {
        const replicaHeader = await options.send(index, requestId);
        outcomes.push({ index, requestId, stream, ok: true, replicaHeader, error: undefined, startedAt, endedAt: performance.now() });
      } catch (error) {
        const message = error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error);
        outcomes.push({ index, requestId, stream, ok: false, replicaHeader: undefined, error: message, startedAt, endedAt: performance.now() });
      }
      options.onSettled?.(outcomes.length);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, () => worker()));
  return outcomes.sort((left, right) => left.index - right.index);
}

/** One non-streaming chat completion; rejects unless it is a complete answer. */
export async function sendCompletion(client: OpenAI, model: string, requestId: string): Promise<string | undefined> {
  const { data, response } = await client.chat.completions
    .create({ model, messages: [{ role: 'user', content: `request ${requestId}` }] }, { headers: { 'x-request-id': requestId } })
    .withResponse();
  if (data.choices[0]?.finish_reason !== 'stop' || !data.choices[0].message.content) {
    throw new Error(`incomplete answer: ${JSON.stringify(data)}`);
  }
  return response.headers.get('x-dosrouter-replica') ?? undefined;
}

/**
 * One streamed chat completion read to its end; rejects unless every one of `expectedTokens` words arrived and the
 * stream finished with a finish reason (a cut stream must never pass for a complete answer).
 */
export async function sendStream(
  client: OpenAI,
  model: string,
  requestId: string,
  expectedTokens: number,
  options: { includeUsage?: boolean } = {},
): Promise<string | undefined> {
  const { data: stream, response } = await client.chat.completions
    .create(
      {
        model,
        stream: true,
        messages: [{ role: 'user', content: `request ${requestId}` }],
        ...(options.includeUsage ? { stream_options: { include_usage: true } } : {}),
      },
      { headers: { 'x-request-id': requestId } },
    )
    .withResponse();
  let text = '';
  let finishReason: string | null | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    finishReason ??= chunk.choices[0]?.finish_reason;
  }
  const words = text.trim() === '' ? 0 : text.trim().split(/\s+/).length;
  if (finishReason !== 'stop' || words !== expectedTokens) {
    throw new Error(`incomplete stream: ${words} of ${expectedTokens} words, finish reason ${finishReason}`);
  }
  return response.headers.get('x-dosrouter-replica') ?? undefined;
}

/** Counts by a key. */
export function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}
