import { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { GatewayError } from '@dosrouter/shared';
import { keepOnlySentHead } from '../http/sent-head.js';
import type { RequestContext } from '../request/request-context.js';
import type { BreakCause } from '../recovery/stream-recovery.js';
import { OPENAI_DIALECT, type AnswerDialect, type StreamScanner } from './answer-dialect.js';
import type { RelayedUpstream } from './anthropic-egress.js';
import type { AnswerWriter, AttemptInput } from './attempt.js';
import { RelaySink } from './relay-sink.js';
import { clientClosed, fromTransportError, malformedAnswer, streamInterrupted, type Deadline } from './upstream-error.js';

const CRLF = Buffer.from('\r\n');

/**
 * Relays a backend's event stream to the client, chunk by chunk as undici's parser reads it: the bytes that
 * {@link SseScanner} returns (the backend's own) go to `response.write` in the same call, with no stream, iterator
 * or promise per chunk in between. A client slower than the backend pauses the backend's socket until the response
 * drains. Events before the first token are held back, so that a deployment that never produces one can still be
 * failed over (the client has seen nothing); `[DONE]` is held back too, and sent once the usage record is committed.
 * Completion tokens are estimated as the events pass ({@link RelaySink}), for a backend that reports no usage or a
 * stream that ends early.
 *
 * What a caller building on it can read: `scanner.forwardedBytes` (the bytes of the backend's events let through)
 * and `started` (whether anything reached the client: before it, the attempt can still fail over).
 */
export class StreamRelay extends RelaySink {
  readonly scanner: StreamScanner;
  private readonly dialect: AnswerDialect;
  /** The client was sent the answer's headers and its first events: the attempt can no longer fail over. */
  started = false;
  /** Events read before the first token, not sent yet. */
  private held: Buffer[] = [];
  private firstTokenNoted = false;
  private draining = false;
  /** The client's socket, once the answer's head and first events went out through `response` (see `write`). */
  private socket: Socket | undefined;
  private readonly resumeUpstream = (): void => {
    this.draining = false;
    this.upstream.resume();
  };
  private readonly malformedAllowed: number;

  constructor(input: AttemptInput, upstream: RelayedUpstream, private readonly response: AnswerWriter, timedOut: () => Deadline, firstTokenArrived: () => void) {
    super(input, upstream, timedOut, firstTokenArrived);
    this.dialect = input.dialect ?? OPENAI_DIALECT;
    // A recoverable stream first tries skipping one malformed event after its first token; a second ends the attempt.
    this.scanner = this.dialect.scanner(input.dropUsageOnlyChunk, (data) => this.estimate.add(data), { skipMalformed: input.recovery !== undefined });
    this.malformedAllowed = input.recovery ? 1 : 0;
  }

  data(chunk: Buffer): void {
    if (this.finished) return;
    const { scanner } = this;
    const events = scanner.push(chunk);
    if (events === undefined && !scanner.malformedSeen) return;
    if (!this.started) {
      this.beforeFirstToken(events);
      return;
    }
    this.noteFirstToken();
    if (events !== undefined) this.write(events);
    if (scanner.malformedEvents > this.malformedAllowed) {
      const error = malformedAnswer(this.input.deployment.id, 'a malformed stream event');
      this.broke('malformed', error);
      this.upstream.abort(error);
    }
  }

  end(): void {
    if (this.finished) return;
    const { context } = this.input;
    const { scanner } = this;
    if (!this.started) {
      context.usageSettled(scanner.usage, false);
      const what = this.held.length === 0 ? 'an empty event stream' : 'a stream that ended before its first token';
      this.finish({ ok: false, error: malformedAnswer(this.input.deployment.id, what) });
      return;
    }
    this.settleUsage();
    if (scanner.complete) {
      // [DONE] goes out once the usage record is committed.
      this.commitThen(() => this.response.end(this.dialect.endOfStream));
      return;
    }
    if (scanner.errorSeen) {
      context.failed('upstream_stream_error');
      this.response.end();
      this.finish({ ok: true });
    } else {
      this.broke('cut', streamInterrupted(this.input.deployment.id));
    }
  }

  error(error: Error): void {
    if (this.finished) return;
    const { context, controller, deployment } = this.input;
    const deadline = this.timedOut();
    const failure = fromTransportError(error, deployment.id, deadline);
    if (!this.started) {
      this.finish({ ok: false, error: clientClosed(controller, context, deadline) ?? failure });
      return;
    }
    if (controller.signal.aborted && deadline === undefined) {
      this.settleUsage();
      context.failed('client_closed');
    } else if (deadline !== undefined) {
      // The attempt's total deadline: nothing is continued past it.
      this.settleUsage();
      this.endWithErrorEvent(failure);
    } else {
      // A stall keeps its own message; a connection lost mid-answer is an interrupted stream, not "unreachable".
      this.broke(failure.status === 504 ? 'stall' : 'cut', failure.status === 504 ? failure : streamInterrupted(deployment.id));
      return;
    }
    this.finish({ ok: true });
  }

  /**
   * The stream broke after its first byte: the next attempt continues the answer if recovery takes the break (the
   * attempt then fails, with nothing more sent), else the stream ends with the error event.
   */
  private broke(cause: BreakCause, error: GatewayError): void {
    this.settleUsage();
    const verdict = this.input.recovery?.broke(this.input.deployment, cause);
    if (verdict?.continued) {
      this.input.context.attemptBroke(cause);
      this.finish({ ok: false, error, broke: cause });
      return;
    }
    this.endWithErrorEvent(error);
    this.finish({ ok: true });
  }

  /** Holds events until the first token, then sends the headers and them; fails the attempt on what cannot be one. */
  private beforeFirstToken(events: Buffer | undefined): void {
    const { scanner } = this;
    const deploymentId = this.input.deployment.id;
    if (scanner.malformedSeen) return this.fail(malformedAnswer(deploymentId, 'a malformed stream event'));
    if (scanner.errorSeen) return this.fail(malformedAnswer(deploymentId, 'an error event before its first token'));
    if (events !== undefined) this.held.push(events);
    if (!scanner.firstTokenSeen) {
      if (!scanner.finishSeen && !scanner.doneSeen) return;
      // Finished without a single token: an empty answer, failed over, unless a content filter emptied it.
      if (!scanner.contentFilterSeen) return this.fail(malformedAnswer(deploymentId, 'a stream with no content and no tool call'));
    }
    if (this.input.claim && !this.input.claim()) {
      // Another hedged attempt answered first: this one stops as if its client had gone.
      this.input.controller.abort(new Error('another hedged attempt answered first'));
      return this.fail(clientClosed(this.input.controller, this.input.context, undefined)!);
    }
    this.firstTokenArrived();
    this.started = true;
    this.response.writeHead(200, {
      ...this.input.context.answerHeaders(undefined),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
    this.noteFirstToken();
    const held = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held);
    this.held = [];
    this.write(held);
  }

  /**
   * Writes to the client; a full socket pauses the backend until it drains. The first write (the answer's head and
   * the held events) goes through `response`; later ones go straight to the socket, each as one chunk frame of
   * HTTP/1.1 chunked encoding (size, CRLF, the bytes, CRLF) in one buffer. `ServerResponse.write` costs a cork, an
   * uncork on the next tick and a four-buffer writev per call: the largest share of the gateway's own CPU per event
   * in the profile of a relayed stream. `response.end` writes the last chunk as usual, after these in the socket.
   */
  private write(bytes: Buffer): void {
    this.input.recovery?.delivered.add(bytes);
    const { socket } = this;
    let flowing: boolean;
    if (socket === undefined) {
      flowing = this.response.write(bytes);
      // Only the client's own response has a socket to write to; a translating writer is written through.
      const { response } = this;
      const current = response instanceof ServerResponse ? response.socket : null;
      if (response instanceof ServerResponse && response.chunkedEncoding && response.headersSent && current !== null) {
        this.socket = current;
        // Node keeps the head it sent for the response's life: one flat string, and not the headers it was made from.
        keepOnlySentHead(response);
      }
    } else {
      // A chunk of size 0 would end the body.
      if (socket.destroyed || bytes.length === 0) return;
      flowing = socket.write(chunkFrame(bytes));
    }
    if (flowing || this.draining || this.response.destroyed) return;
    this.draining = true;
    this.upstream.pause();
    (this.socket ?? this.response).once('drain', this.resumeUpstream);
  }

  private noteFirstToken(): void {
    if (this.firstTokenNoted || !this.scanner.firstTokenSeen) return;
    this.firstTokenNoted = true;
    this.input.context.firstToken();
  }

  private settleUsage(): void {
    this.settleUsageOf(this.scanner.usage, this.started);
  }

  /** Nothing reached the client: the attempt fails (and may fail over); the backend's request is ended. */
  private fail(error: GatewayError): void {
    this.finish({ ok: false, error });
    this.upstream.abort(error);
  }

  /** After the first byte no retry is possible: end with an error event in the answer's protocol, never a silent truncation. */
  private endWithErrorEvent(error: GatewayError): void {
    endWithErrorEvent(this.response, this.input.context, error, this.dialect);
  }

  protected override stop(): void {
    super.stop();
    this.response.off('drain', this.resumeUpstream);
    this.socket?.off('drain', this.resumeUpstream);
  }
}

/** Ends a started stream with an error event in the answer's protocol (the client keeps what it was sent before). */
export function endWithErrorEvent(response: AnswerWriter, context: RequestContext, error: GatewayError, dialect: AnswerDialect = OPENAI_DIALECT): void {
  context.failed(error.code);
  if (response.destroyed) return;
  response.end(dialect.errorEvent(error));
}

/** `bytes` as one chunk of HTTP/1.1 chunked encoding. */
function chunkFrame(bytes: Buffer): Buffer {
  const size = bytes.length.toString(16);
  const frame = Buffer.allocUnsafe(size.length + 2 + bytes.length + 2);
  frame.write(size, 0, 'latin1');
  CRLF.copy(frame, size.length);
  bytes.copy(frame, size.length + 2);
  CRLF.copy(frame, size.length + 2 + bytes.length);
  return frame;
}
