import type { ServerResponse } from 'node:http';
import type { GatewayError, Deployment } from '@dosrouter/shared';
import type { RequestContext } from '../request/request-context.js';
import type { Backend, Operation } from './backend.js';
import { usageFromResponse } from './sse-scanner.js';
import { StreamRelay } from './stream-relay.js';
import { clientClosed, fromErrorResponse, fromTransportError, malformedAnswer, type Deadline } from './upstream-error.js';
import { requestUpstream, type UpstreamResponse } from './upstream-request.js';

/** Largest backend response body read into memory (non-streaming answers, error bodies). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export interface AttemptInput {
  readonly backend: Backend;
  readonly deployment: Deployment;
  readonly operation: Operation;
  /** The request body to send, already carrying the backend's model id. */
  readonly body: string | Buffer;
  readonly stream: boolean;
  /** The gateway asked for stream usage on the client's behalf: drop the usage-only chunk. */
  readonly dropUsageOnlyChunk: boolean;
  /** Aborted when the client goes away or the attempt's total deadline passes. */
  readonly controller: AbortController;
  /**
   * The request's owner, told what the attempt learns (first token, usage, the end of the upstream answer, an early
   * end); it gives the answer's headers and commits its usage record before the last bytes go out.
   */
  readonly context: RequestContext;
}

/**
 * `ok` once an answer reached the client (a stream that broke after its first byte is also `ok`: it was ended
 * with an error event, and nothing can be retried). Otherwise the error, and nothing was sent to the client.
 */
export type AttemptResult = { ok: true } | { ok: false; error: GatewayError };

export async function runAttempt(input: AttemptInput, response: ServerResponse): Promise<AttemptResult> {
  const { backend, controller, context } = input;
  const deploymentId = input.deployment.id;
  let expired: Deadline;
  const expire = (deadline: Exclude<Deadline, undefined>, afterMs: number) =>
    afterMs > 0
      ? setTimeout(() => {
          expired = deadline;
          controller.abort(new Error(`${deadline} passed`));
        }, afterMs)
      : undefined;
  const totalTimer = expire('total deadline', backend.timeouts.totalMs);
  // Streams only: the first content token must come within firstTokenMs; nothing reaches the client before it.
  const firstTokenTimer = input.stream ? expire('first token', backend.timeouts.firstTokenMs) : undefined;
  const timedOut = (): Deadline => expired;
  const firstTokenArrived = (): void => clearTimeout(firstTokenTimer);
  try {
    let upstream: UpstreamResponse;
    try {
      upstream = await requestUpstream(
        backend.pool,
        {
          path: backend.path(input.operation),
          method: 'POST',
          headers: { ...backend.baseHeaders, 'content-type': 'application/json', 'x-request-id': context.requestId },
          body: input.body,
          idempotent: backend.requestOptions.idempotent,
        },
        controller.signal,
      );
    } catch (error) {
      return { ok: false, error: clientClosed(controller, context, expired) ?? fromTransportError(error, deploymentId, expired) };
    }
    const contentType = headerValue(upstream.headers['content-type']);
    if (upstream.statusCode >= 400) {
      firstTokenArrived();
      const text = await upstream.read(MAX_RESPONSE_BYTES).then(
        (buffer) => buffer.toString('utf8'),
        () => '',
      );
      return { ok: false, error: fromErrorResponse(upstream.statusCode, upstream.headers, text, deploymentId, Date.now()) };
    }
    if (input.stream && contentType?.startsWith('text/event-stream')) {
      return await new StreamRelay(input, upstream, response, timedOut, firstTokenArrived).run();
    }
    return await relayWhole(input, upstream, contentType, response, timedOut);
  } finally {
    clearTimeout(totalTimer);
    clearTimeout(firstTokenTimer);
    // A complete answer's end was noted before its usage record was committed: that wait is not the backend's.
    context.upstreamEnded();
  }
}

async function relayWhole(
  input: AttemptInput,
  upstream: UpstreamResponse,
  contentType: string | undefined,
  response: ServerResponse,
  timedOut: () => Deadline,
): Promise<AttemptResult> {
  let buffer: Buffer;
  try {
    buffer = await upstream.read(MAX_RESPONSE_BYTES);
  } catch (error) {
    return { ok: false, error: clientClosed(input.controller, input.context, timedOut()) ?? fromTransportError(error, input.deployment.id, timedOut()) };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(buffer.toString('utf8'));
  } catch (error) {
    return { ok: false, error: malformedAnswer(input.deployment.id, 'a body that is not JSON', error) };
  }
  if (input.operation !== 'embeddings' && isEmptyAnswer(parsed)) {
    return { ok: false, error: malformedAnswer(input.deployment.id, 'no content and no tool call') };
  }
  const { context } = input;
  const reported = usageFromResponse(parsed);
  const usage = reported ?? context.estimateUsage({ answer: parsed });
  context.usageSettled(usage, reported === undefined);
  context.upstreamEnded();
  await context.commitAnswer(upstream.statusCode);
  // The backend's bytes go out as they came: parsed to read usage, never re-serialised.
  response.writeHead(upstream.statusCode, {
    ...context.answerHeaders(usage),
    'content-type': contentType ?? 'application/json',
    'content-length': String(buffer.length),
  });
  response.end(buffer);
  return { ok: true };
}

/**
 * A non-streaming completion with no content and no tool call in any choice: a failure worth failing over, never
 * an answer. A refusal counts as content; so does a content filter's verdict. Bodies of any other shape are passed through as they are.
 */
export function isEmptyAnswer(parsed: unknown): boolean {
  const choices = (parsed as { choices?: unknown } | null)?.choices;
  if (!Array.isArray(choices) || choices.length === 0) return false;
  return choices.every((choice: unknown) => {
    const { message, text, finish_reason } = (choice ?? {}) as { message?: Record<string, unknown>; text?: unknown; finish_reason?: unknown };
    // A content filter's verdict, or an answer cut at max_tokens (a reasoning model may think them all away), is
    // what the client asked for: it goes back as it came.
    if (finish_reason === 'content_filter' || finish_reason === 'length') return false;
    if (typeof text === 'string') return text === '';
    if (!message) return false;
    const hasText = (value: unknown): boolean => (typeof value === 'string' && value !== '') || (Array.isArray(value) && value.length > 0);
    const hasCalls = Array.isArray(message.tool_calls) && message.tool_calls.length > 0;
    const said = [message.content, message.refusal, message.reasoning_content, message.reasoning].some(hasText);
    return !said && !hasCalls && !message.function_call && !message.audio;
  });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
