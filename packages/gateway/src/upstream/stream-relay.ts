import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { GatewayError } from '@dosrouter/shared';
import type { RequestContext } from '../request/request-context.js';
import { StreamTokenEstimate } from '../usage/estimate-usage.js';
import type { AttemptInput, AttemptResult } from './attempt.js';
import { SseScanner } from './sse-scanner.js';
import type { BodySink, UpstreamResponse } from './upstream-request.js';
import { clientClosed, fromTransportError, malformedAnswer, streamInterrupted, type Deadline } from './upstream-error.js';

const DONE_EVENT = 'data: [DONE]\n\n';
const CRLF = Buffer.from('\r\n');

/**
 * Relays a backend's event stream to the client, chunk by chunk as undici's parser reads it: the bytes that
 * {@link SseScanner} returns (the backend's own) go to `response.write` in the same call, with no stream, iterator
 * or promise per chunk in between. A client slower than the backend pauses the backend's socket until the response
 * drains. Events before the first token are held back, so that a deployment that never produces one can still be
 * failed over (the client has seen nothing); `[DONE]` is held back too, and sent once the usage record is committed.
 * Completion tokens are estimated as the events pass ({@link StreamTokenEstimate}), for a backend that reports no
 * usage or a stream that ends early.
 *
 * What a caller building on it can read: `scanner.forwardedBytes` (the bytes of the backend's events let through)
 * and `started` (whether anything reached the client: before it, the attempt can still fail over).
 */
export class StreamRelay implements BodySink {
  readonly scanner: SseScanner;
  /** The client was sent the answer's headers and its first events: the attempt can no longer fail over. */
  started = false;
  private readonly estimate = new StreamTokenEstimate();
  /** Events read before the first token, not sent yet. */
  private held: Buffer[] = [];
  private firstTokenNoted = false;
  private finished = false;
  private draining = false;
  /** The client's socket, once the answer's head and first events went out through `response` (see `write`). */
  private socket: Socket | undefined;
  private readonly resumeUpstream = (): void => {
    this.draining = false;
    this.upstream.resume();
  };
  private resolve: (result: AttemptResult) => void = () => undefined;
  private reject: (error: unknown) => void = () => undefined;

  constructor(
    private readonly input: AttemptInput,
    private readonly upstream: UpstreamResponse,
    private readonly response: ServerResponse,
    private readonly timedOut: () => Deadline,
    private readonly firstTokenArrived: () => void,
  ) {
    this.scanner = new SseScanner(input.dropUsageOnlyChunk, { holdDone: true, onEvent: (data) => this.estimate.add(data) });
  }

  /** Relays the whole stream; resolves when it is over (see {@link AttemptResult}). */
  run(): Promise<AttemptResult> {
    return new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.upstream.pipe(this);
    });
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
    if (scanner.malformedSeen) {
      const error = malformedAnswer(this.input.deployment.id, 'a malformed stream event');
      this.settleUsage();
      this.endWithErrorEvent(error);
      this.finish({ ok: true });
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
      context.upstreamEnded();
      this.stop();
      // [DONE] goes out once the usage record is committed: a replica killed after the last byte lost nothing.
      context.commitAnswer(200).then(() => {
        this.response.end(DONE_EVENT);
        this.resolve({ ok: true });
      }, this.reject);
      return;
    }
    if (scanner.errorSeen) {
      context.failed('upstream_stream_error');
      this.response.end();
    } else {
      this.endWithErrorEvent(streamInterrupted(this.input.deployment.id));
    }
    this.finish({ ok: true });
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
    this.settleUsage();
    if (controller.signal.aborted && deadline === undefined) {
      context.failed('client_closed');
    } else {
      // A deadline keeps its own message; a connection lost mid-answer is an interrupted stream, not "unreachable".
      this.endWithErrorEvent(failure.status === 504 ? failure : streamInterrupted(deployment.id));
    }
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
    const { socket } = this;
    let flowing: boolean;
    if (socket === undefined) {
      flowing = this.response.write(bytes);
      const current = this.response.socket;
      if (this.response.chunkedEncoding && this.response.headersSent && current !== null) this.socket = current;
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

  /** The backend's usage, or the gateway's count of what was streamed (a broken stream is billed too). */
  private settleUsage(): void {
    const { context } = this.input;
    if (this.scanner.usage || !this.started) context.usageSettled(this.scanner.usage, false);
    else context.usageSettled(context.estimateUsage({ completionTokens: this.estimate.completionTokens() }), true);
  }

  /** Nothing reached the client: the attempt fails (and may fail over); the backend's request is ended. */
  private fail(error: GatewayError): void {
    this.finish({ ok: false, error });
    this.upstream.abort(error);
  }

  /** After the first byte no retry is possible: end with an OpenAI-shaped error event, never a silent truncation. */
  private endWithErrorEvent(error: GatewayError): void {
    endWithErrorEvent(this.response, this.input.context, error);
  }

  private finish(result: AttemptResult): void {
    this.stop();
    this.resolve(result);
  }

  /** Nothing the backend does from here changes the answer (an abort of it included, which it reports as an error). */
  private stop(): void {
    this.finished = true;
    this.response.off('drain', this.resumeUpstream);
    this.socket?.off('drain', this.resumeUpstream);
  }
}

/** Ends a started stream with an OpenAI-shaped error event (the client keeps what it was sent before). */
export function endWithErrorEvent(response: ServerResponse, context: RequestContext, error: GatewayError): void {
  context.failed(error.code);
  if (response.destroyed) return;
  response.end(`data: ${JSON.stringify(error.toBody())}\n\n`);
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
