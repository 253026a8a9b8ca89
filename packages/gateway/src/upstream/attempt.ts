import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { GatewayError, type Deployment } from '@dosrouter/shared';
import type { RequestOutcome } from '../proxy/request-outcome.js';
import type { Backend, Operation } from './backend.js';
import { SseScanner, usageFromResponse } from './sse-scanner.js';
import { fromErrorResponse, fromTransportError } from './upstream-error.js';

/** Largest backend response body read into memory (non-streaming answers, error bodies). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export interface AttemptInput {
  readonly backend: Backend;
  readonly deployment: Deployment;
  readonly operation: Operation;
  /** The request body to send, already carrying the backend's model id. */
  readonly body: string;
  readonly stream: boolean;
  /** The gateway asked for stream usage on the client's behalf: drop the usage-only chunk. */
  readonly dropUsageOnlyChunk: boolean;
  /** Aborted when the client goes away or the attempt's total deadline passes. */
  readonly controller: AbortController;
  readonly outcome: RequestOutcome;
  readonly clock: () => number;
  /** Headers to send to the client with a successful answer. */
  readonly responseHeaders: Record<string, string>;
}

/**
 * `ok` once an answer reached the client (a stream that broke after its first byte is also `ok`: it was ended
 * with an error event, and nothing can be retried). Otherwise the error, and nothing was sent to the client.
 */
export type AttemptResult = { ok: true } | { ok: false; error: GatewayError };

export async function runAttempt(input: AttemptInput, response: ServerResponse): Promise<AttemptResult> {
  const { backend, controller, outcome, clock } = input;
  const deploymentId = input.deployment.id;
  let totalTimedOut = false;
  const totalTimer =
    backend.timeouts.totalMs > 0
      ? setTimeout(() => {
          totalTimedOut = true;
          controller.abort(new Error('total deadline passed'));
        }, backend.timeouts.totalMs)
      : undefined;
  outcome.upstreamStartedAt = clock();
  try {
    let upstream: Dispatcher.ResponseData;
    try {
      upstream = await backend.pool.request({
        path: backend.path(input.operation),
        method: 'POST',
        headers: { ...backend.baseHeaders, 'content-type': 'application/json', 'x-request-id': outcome.requestId },
        body: input.body,
        signal: controller.signal,
      });
    } catch (error) {
      return { ok: false, error: fromTransportError(error, deploymentId, totalTimedOut) };
    }
    const contentType = headerValue(upstream.headers['content-type']);
    if (upstream.statusCode >= 400) {
      const text = await readBody(upstream.body).then(
        (buffer) => buffer.toString('utf8'),
        () => '',
      );
      return { ok: false, error: fromErrorResponse(upstream.statusCode, upstream.headers, text, deploymentId, Date.now()) };
    }
    if (input.stream && contentType?.startsWith('text/event-stream')) {
      return await relayStream(input, upstream, response, () => totalTimedOut);
    }
    return await relayWhole(input, upstream, contentType, response, () => totalTimedOut);
  } finally {
    clearTimeout(totalTimer);
    outcome.upstreamEndedAt = clock();
  }
}

async function relayWhole(
  input: AttemptInput,
  upstream: Dispatcher.ResponseData,
  contentType: string | undefined,
  response: ServerResponse,
  totalTimedOut: () => boolean,
): Promise<AttemptResult> {
  let buffer: Buffer;
  try {
    buffer = await readBody(upstream.body);
  } catch (error) {
    return { ok: false, error: fromTransportError(error, input.deployment.id, totalTimedOut()) };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(buffer.toString('utf8'));
  } catch (error) {
    return { ok: false, error: malformedAnswer(input.deployment.id, 'a body that is not JSON', error) };
  }
  input.outcome.usage = usageFromResponse(parsed);
  // The backend's bytes go out as they came: parsed to read usage, never re-serialised.
  response.writeHead(upstream.statusCode, {
    ...input.responseHeaders,
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
  totalTimedOut: () => boolean,
): Promise<AttemptResult> {
  const { outcome, clock, controller } = input;
  const scanner = new SseScanner(input.dropUsageOnlyChunk);
  let started = false;
  try {
    for await (const chunk of upstream.body as AsyncIterable<Buffer>) {
      const events = scanner.push(chunk);
      if (events === '') continue;
      if (!started) {
        started = true;
        response.writeHead(200, {
          ...input.responseHeaders,
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
          'x-accel-buffering': 'no',
        });
      }
      if (outcome.firstTokenAt === undefined && scanner.firstTokenSeen) outcome.firstTokenAt = clock();
      if (!response.write(events)) await once(response, 'drain', { signal: controller.signal });
    }
  } catch (error) {
    const failure = fromTransportError(error, input.deployment.id, totalTimedOut());
    if (!started) return { ok: false, error: failure };
    if (controller.signal.aborted && !totalTimedOut()) {
      outcome.errorCode = 'client_closed';
      return { ok: true };
    }
    // A deadline keeps its own message; a connection lost mid-answer is an interrupted stream, not "unreachable".
    endWithErrorEvent(response, outcome, failure.status === 504 ? failure : streamInterrupted(input.deployment.id));
    return { ok: true };
  }
  outcome.usage = scanner.usage;
  if (!started) {
    return { ok: false, error: malformedAnswer(input.deployment.id, 'an empty event stream') };
  }
  if (scanner.complete) {
    if (!scanner.doneSeen) response.write('data: [DONE]\n\n');
    response.end();
  } else if (scanner.errorSeen) {
    outcome.errorCode = 'upstream_stream_error';
    response.end();
  } else {
    endWithErrorEvent(response, outcome, streamInterrupted(input.deployment.id));
  }
  return { ok: true };
}

/** After the first byte no retry is possible: end with an OpenAI-shaped error event, never a silent truncation. */
function endWithErrorEvent(response: ServerResponse, outcome: RequestOutcome, error: GatewayError): void {
  outcome.errorCode = error.code;
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
