import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { GatewayError, type Deployment } from '@dosrouter/shared';
import type { RequestContext } from '../request/request-context.js';
import type { Backend, Operation } from './backend.js';
import { SseScanner, usageFromResponse } from './sse-scanner.js';
import { fromErrorResponse, fromTransportError } from './upstream-error.js';

/** Largest backend response body read into memory (non-streaming answers, error bodies). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/**
 * Stream event data kept per stream for counting tokens when the backend reports no usage. Past it the count is
 * scaled up by the bytes not kept.
 */
const COLLECT_STREAM_BYTES = 64 * 1024;

/** What to count completion tokens in: a whole answer, or a stream's event data (a share of it when capped). */
export type CompletionSource = { readonly answer: unknown } | { readonly events: readonly string[]; readonly scale: number };

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

/** The deadline that aborted an attempt, if one did: it decides the error's wording and whether a stream can fail over. */
type Deadline = 'total deadline' | 'first token' | undefined;

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
    let upstream: Dispatcher.ResponseData;
    try {
      upstream = await backend.pool.request({
        path: backend.path(input.operation),
        method: 'POST',
        headers: { ...backend.baseHeaders, 'content-type': 'application/json', 'x-request-id': context.requestId },
        body: input.body,
        signal: controller.signal,
        idempotent: backend.requestOptions.idempotent,
      });
    } catch (error) {
      return { ok: false, error: clientClosed(controller, context, expired) ?? fromTransportError(error, deploymentId, expired) };
    }
    const contentType = headerValue(upstream.headers['content-type']);
    if (upstream.statusCode >= 400) {
      firstTokenArrived();
      const text = await readBody(upstream.body).then(
        (buffer) => buffer.toString('utf8'),
        () => '',
      );
      return { ok: false, error: fromErrorResponse(upstream.statusCode, upstream.headers, text, deploymentId, Date.now()) };
    }
    if (input.stream && contentType?.startsWith('text/event-stream')) {
      return await relayStream(input, upstream, response, timedOut, firstTokenArrived);
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
  upstream: Dispatcher.ResponseData,
  contentType: string | undefined,
  response: ServerResponse,
  timedOut: () => Deadline,
): Promise<AttemptResult> {
  let buffer: Buffer;
  try {
    buffer = await readBody(upstream.body);
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

async function relayStream(
  input: AttemptInput,
  upstream: Dispatcher.ResponseData,
  response: ServerResponse,
  timedOut: () => Deadline,
  firstTokenArrived: () => void,
): Promise<AttemptResult> {
  const { context, controller } = input;
  // [DONE] is held back: it is sent after the usage record is committed.
  const scanner = new SseScanner(input.dropUsageOnlyChunk, { holdDone: true, collectBytes: COLLECT_STREAM_BYTES });
  let started = false;
  /** The backend's usage, or what the gateway counts in what was streamed (a broken stream was billed too). */
  const settleUsage = (): void => {
    if (scanner.usage || !started) {
      context.usageSettled(scanner.usage, false);
      return;
    }
    const scale = scanner.collectedBytes > 0 ? scanner.dataBytes / scanner.collectedBytes : 1;
    context.usageSettled(context.estimateUsage({ events: scanner.collected, scale }), true);
  };
  let firstTokenNoted = false;
  const noteFirstToken = (): void => {
    if (firstTokenNoted || !scanner.firstTokenSeen) return;
    firstTokenNoted = true;
    context.firstToken();
  };
  // Events before the first token (the role chunk, keep-alives) are held back, so that a deployment that never
  // produces a token can still be failed over: the client has seen nothing yet.
  let held = '';
  try {
    for await (const chunk of upstream.body as AsyncIterable<Buffer>) {
      const events = scanner.push(chunk);
      if (events === '' && !scanner.malformedSeen) continue;
      if (!started) {
        if (scanner.malformedSeen) return { ok: false, error: malformedAnswer(input.deployment.id, 'a malformed stream event') };
        if (scanner.errorSeen) return { ok: false, error: malformedAnswer(input.deployment.id, 'an error event before its first token') };
        held += events;
        if (!scanner.firstTokenSeen) {
          if (!scanner.finishSeen && !scanner.doneSeen) continue;
          // Finished without a single token: an empty answer, failed over, unless a content filter emptied it.
          if (!scanner.contentFilterSeen) return { ok: false, error: malformedAnswer(input.deployment.id, 'a stream with no content and no tool call') };
        }
        firstTokenArrived();
        started = true;
        response.writeHead(200, {
          ...context.answerHeaders(undefined),
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
          'x-accel-buffering': 'no',
        });
        noteFirstToken();
        if (!response.write(held)) await once(response, 'drain', { signal: controller.signal });
        held = '';
        continue;
      }
      noteFirstToken();
      if (events !== '' && !response.write(events)) await once(response, 'drain', { signal: controller.signal });
      if (scanner.malformedSeen) {
        upstream.body.destroy();
        settleUsage();
        endWithErrorEvent(response, context, malformedAnswer(input.deployment.id, 'a malformed stream event'));
        return { ok: true };
      }
    }
  } catch (error) {
    const failure = fromTransportError(error, input.deployment.id, timedOut());
    if (!started) return { ok: false, error: clientClosed(controller, context, timedOut()) ?? failure };
    settleUsage();
    if (controller.signal.aborted && timedOut() === undefined) {
      context.failed('client_closed');
      return { ok: true };
    }
    // A deadline keeps its own message; a connection lost mid-answer is an interrupted stream, not "unreachable".
    endWithErrorEvent(response, context, failure.status === 504 ? failure : streamInterrupted(input.deployment.id));
    return { ok: true };
  }
  if (!started) {
    context.usageSettled(scanner.usage, false);
    return { ok: false, error: malformedAnswer(input.deployment.id, held === '' ? 'an empty event stream' : 'a stream that ended before its first token') };
  }
  settleUsage();
  if (scanner.complete) {
    context.upstreamEnded();
    await context.commitAnswer(200);
    response.end('data: [DONE]\n\n');
  } else if (scanner.errorSeen) {
    context.failed('upstream_stream_error');
    response.end();
  } else {
    endWithErrorEvent(response, context, streamInterrupted(input.deployment.id));
  }
  return { ok: true };
}

/**
 * The client went away before anything was sent to it: not the backend's failure. Its error counts against no
 * circuit (status 499) and is recorded nowhere; the caller stops, the client being gone.
 */
function clientClosed(controller: AbortController, context: RequestContext, deadline: Deadline): GatewayError | undefined {
  if (!controller.signal.aborted || deadline !== undefined) return undefined;
  context.failed('client_closed');
  return new GatewayError('The client closed the connection.', { status: 499, code: 'client_closed', retryable: false });
}

/** After the first byte no retry is possible: end with an OpenAI-shaped error event, never a silent truncation. */
function endWithErrorEvent(response: ServerResponse, context: RequestContext, error: GatewayError): void {
  context.failed(error.code);
  if (response.destroyed) return;
  response.end(`data: ${JSON.stringify(error.toBody())}\n\n`);
}

function streamInterrupted(deploymentId: string): GatewayError {
  return new GatewayError(`The backend for ${deploymentId} ended the stream before the answer was complete.`, {
    status: 502,
    code: 'upstream_stream_interrupted',
    type: 'server_error',
  });
}

function malformedAnswer(deploymentId: string, what: string, cause?: unknown): GatewayError {
  return new GatewayError(`The backend for ${deploymentId} answered with ${what}.`, {
    status: 502,
    code: 'upstream_malformed_response',
    type: 'server_error',
    retryable: true,
    cause,
  });
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

/** Collects a whole body with plain events: an async iterator costs a promise per chunk on every answer. */
function readBody(body: Dispatcher.ResponseData['body']): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES) {
        body.destroy(new Error(`backend response larger than ${MAX_RESPONSE_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    body.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    body.once('error', reject);
  });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
