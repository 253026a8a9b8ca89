import { once, type EventEmitter } from 'node:events';
import type { OutgoingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { RequestContext } from '../request/request-context.js';
import { GatewayError, type BackendOperation, type Deployment } from '@dosrouter/shared';
import type { AnswerTranslation } from './anthropic-egress.js';
import type { Backend } from './backend.js';
import { OPENAI_DIALECT, type AnswerDialect } from './answer-dialect.js';
import { fromErrorResponse, fromTransportError } from './upstream-error.js';

/** Largest backend response body read into memory (non-streaming answers, error bodies). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;


/** What to count completion tokens in: a whole answer, or a stream's event data (a share of it when capped). */
export type CompletionSource = { readonly answer: unknown } | { readonly events: readonly string[]; readonly scale: number };

/** What an attempt writes the answer to: the client's response, or an ingress adapter that translates on the way. */
export interface AnswerWriter extends EventEmitter {
  readonly destroyed: boolean;
  writeHead(status: number, headers: OutgoingHttpHeaders): unknown;
  write(chunk: string | Buffer): boolean;
  end(chunk?: string | Buffer): unknown;
}

export interface AttemptInput {
  readonly backend: Backend;
  readonly deployment: Deployment;
  /** What the backend is asked for: an OpenAI operation, or `messages` of a `kind: anthropic` backend. */
  readonly operation: BackendOperation;
  /** The request body to send, already carrying the backend's model id. */
  readonly body: string | Buffer;
  readonly stream: boolean;
  /**
   * How the backend's answer becomes a Chat Completions answer when the backend speaks another protocol (a `kind:
   * anthropic` deployment); absent, it is relayed as it comes.
   */
  readonly answer?: AnswerTranslation;
  /** The gateway asked for stream usage on the client's behalf: drop the usage-only chunk. */
  readonly dropUsageOnlyChunk: boolean;
  /** The protocol of the backend's answer; default OpenAI's. */
  readonly dialect?: AnswerDialect;
  /** Headers of this request only, on top of the backend's (a native backend gets the client's `anthropic-beta`). */
  readonly headers?: Readonly<Record<string, string>>;
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

export async function runAttempt(input: AttemptInput, response: AnswerWriter): Promise<AttemptResult> {
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
        headers: { ...backend.baseHeaders, ...input.headers, 'content-type': 'application/json', 'x-request-id': context.requestId },
        body: input.body,
        signal: controller.signal,
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
      // A translated stream is relayed as the Chat Completions events its translation makes of the backend's.
      const relayed = input.answer ? { ...upstream, body: input.answer.stream(upstream.body) as unknown as Dispatcher.ResponseData['body'] } : upstream;
      return await relayStream(input, relayed, response, timedOut, firstTokenArrived);
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
  response: AnswerWriter,
  timedOut: () => Deadline,
): Promise<AttemptResult> {
  let buffer: Buffer;
  try {
    buffer = await readBody(upstream.body);
  } catch (error) {
    return { ok: false, error: clientClosed(input.controller, input.context, timedOut()) ?? fromTransportError(error, input.deployment.id, timedOut()) };
  }
  if (input.answer) {
    const translated = input.answer.whole(buffer);
    if (!translated) return { ok: false, error: malformedAnswer(input.deployment.id, 'a body that is not an answer of its protocol') };
    buffer = translated;
    contentType = 'application/json';
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
  const reported = (input.dialect ?? OPENAI_DIALECT).usageOf(parsed);
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
  response: AnswerWriter,
  timedOut: () => Deadline,
  firstTokenArrived: () => void,
): Promise<AttemptResult> {
  const { context, controller } = input;
  const dialect = input.dialect ?? OPENAI_DIALECT;
  // The stream's end ([DONE], message_stop) is held back: it is sent after the usage record is committed.
  const scanner = dialect.scanner(input.dropUsageOnlyChunk);
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
        endWithErrorEvent(response, context, dialect, malformedAnswer(input.deployment.id, 'a malformed stream event'));
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
    endWithErrorEvent(response, context, dialect, failure.status === 504 ? failure : streamInterrupted(input.deployment.id));
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
    response.end(dialect.endOfStream);
  } else if (scanner.errorSeen) {
    context.failed('upstream_stream_error');
    response.end();
  } else {
    endWithErrorEvent(response, context, dialect, streamInterrupted(input.deployment.id));
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

/** After the first byte no retry is possible: end with an error event in the answer's protocol, never a silent truncation. */
function endWithErrorEvent(response: AnswerWriter, context: RequestContext, dialect: AnswerDialect, error: GatewayError): void {
  context.failed(error.code);
  if (response.destroyed) return;
  response.end(dialect.errorEvent(error));
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
