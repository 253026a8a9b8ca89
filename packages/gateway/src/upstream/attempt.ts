import type { EventEmitter } from 'node:events';
import { ServerResponse, type OutgoingHttpHeaders } from 'node:http';
import type { BackendOperation, GatewayError, Deployment } from '@dosrouter/shared';
import type { ContinuationRewriter } from '../recovery/continuation-events.js';
import { ContinuationRelay } from '../recovery/continuation-relay.js';
import type { BreakCause, StreamRecovery } from '../recovery/stream-recovery.js';
import type { RequestContext } from '../request/request-context.js';
import { OPENAI_DIALECT, type AnswerDialect } from './answer-dialect.js';
import { translatedUpstream, type AnswerTranslation } from './anthropic-egress.js';
import type { Backend } from './backend.js';
import { StreamRelay } from './stream-relay.js';
import { clientClosed, fromErrorResponse, fromTransportError, malformedAnswer, type Deadline } from './upstream-error.js';
import { requestUpstream, type UpstreamResponse } from './upstream-request.js';

/** Largest backend response body read into memory (non-streaming answers, error bodies). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

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
  /**
   * A chat stream that may be continued elsewhere if it breaks after its first text (recovery on, one choice): the
   * relay hands it what it forwards, and on a break asks it whether to end with the error event or let the next
   * attempt continue.
   */
  readonly recovery?: StreamRecovery;
  /** This attempt continues a broken stream: the client's headers and first text are sent; relay through this. */
  readonly continuation?: ContinuationRewriter;
  /**
   * Racing attempts (hedging): called when this one has its first token, before anything is sent to the client;
   * false when another won already (this one then stops, as if its client had gone).
   */
  readonly claim?: () => boolean;
}

/**
 * `ok` once an answer reached the client (a stream that broke after its first byte and was ended with an error
 * event is also `ok`: nothing can be retried). Otherwise the error, and nothing more was sent to the client: either
 * nothing at all, or (`broke`) the first part of a stream that the next attempt is to continue.
 */
export type AttemptResult = { ok: true } | { ok: false; error: GatewayError; broke?: BreakCause };

/**
 * One attempt: its request to the backend, then its answer relayed. Chained, not awaited, around the relay: an async
 * function suspended for a stream's whole life keeps its frame on the heap (see attempt-layers.ts).
 */
export function runAttempt(input: AttemptInput, response: AnswerWriter): Promise<AttemptResult> {
  const { backend, controller, context } = input;
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
  return requestAndRelay(input, response, timedOut, firstTokenArrived).finally(() => {
    clearTimeout(totalTimer);
    clearTimeout(firstTokenTimer);
    // A complete answer's end was noted before its usage record was committed: that wait is not the backend's.
    context.upstreamEnded();
  });
}

/** Sends the request; resolves with the relay of its answer (which this function does not wait for). */
async function requestAndRelay(input: AttemptInput, response: AnswerWriter, timedOut: () => Deadline, firstTokenArrived: () => void): Promise<AttemptResult> {
  const { backend, controller, context } = input;
  const deploymentId = input.deployment.id;
  let upstream: UpstreamResponse;
  try {
    upstream = await requestUpstream(
      backend.pool,
      {
        path: backend.path(input.operation, input.deployment.upstreamModel),
        method: 'POST',
        headers: { ...backend.baseHeaders, ...input.headers, 'content-type': 'application/json', 'x-request-id': context.requestId },
        body: input.body,
        idempotent: backend.requestOptions.idempotent,
      },
      controller,
    );
  } catch (error) {
    const expired = timedOut();
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
    // A translated stream is relayed as the Chat Completions events its translation makes of the backend's.
    const relayed = input.answer ? translatedUpstream(upstream, input.answer) : upstream;
    // A continuation is written to the client's own response (recovery is for OpenAI streams passed through).
    if (input.continuation && response instanceof ServerResponse) {
      return new ContinuationRelay(input, input.continuation, relayed, response, timedOut, firstTokenArrived).run();
    }
    return new StreamRelay(input, relayed, response, timedOut, firstTokenArrived).run();
  }
  return relayWhole(input, upstream, contentType, response, timedOut);
}

async function relayWhole(
  input: AttemptInput,
  upstream: UpstreamResponse,
  contentType: string | undefined,
  response: AnswerWriter,
  timedOut: () => Deadline,
): Promise<AttemptResult> {
  let buffer: Buffer;
  try {
    buffer = await upstream.read(MAX_RESPONSE_BYTES);
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
