import type { Dispatcher } from 'undici';

/** Where an upstream body goes, chunk by chunk, as undici's parser reads it (synchronously, no stream in between). */
export interface BodySink {
  data(chunk: Buffer): void;
  end(): void;
  error(error: Error): void;
}

type Headers = Record<string, string | string[] | undefined>;

/**
 * One request to a backend through undici's handler API (`dispatch`), instead of `request()`: its body is not a
 * Readable read with an async iterator (a stream push, an event and a promise per chunk) but handed to one
 * {@link BodySink} straight from the HTTP parser. Backpressure is the sink's `pause()` and `resume()` (undici's
 * dispatch controller stops and restarts reading the socket); `signal` aborts the request at any point.
 *
 * Resolves once the status and headers are in, with the body paused until `pipe` or `read` takes it; rejects with
 * undici's error (connect, headers timeout, abort) when no response came.
 */
export function requestUpstream(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions, abortable: AbortSignal | AbortController): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    const response = new UpstreamResponse(abortable instanceof AttemptController || abortable instanceof AbortSignal ? abortable : abortable.signal, resolve, reject);
    dispatcher.dispatch(options, response);
  });
}

/**
 * An attempt's AbortController that tells its backend request of an abort itself, so that its AbortSignal is made
 * only when something reads it (a wait at the connection gate, an error path). A signal is an EventTarget: making
 * one and adding and removing an 'abort' listener cost a few microseconds, once per attempt, for an abort that
 * almost never comes (about 1 % of the gateway's CPU on a short stream).
 */
export class AttemptController extends AbortController {
  private abortedYet = false;
  private listener: (() => void) | undefined;

  get aborted(): boolean {
    return this.abortedYet;
  }

  /** `listener` is called when the controller aborts, after the signal's own (one listener; `unwatch` removes it). */
  watch(listener: () => void): void {
    this.listener = listener;
  }

  unwatch(): void {
    this.listener = undefined;
  }

  override abort(reason?: unknown): void {
    if (this.abortedYet) return;
    this.abortedYet = true;
    // The signal's own listeners first (a wait at the gate), as when the request's listener was on the signal.
    super.abort(reason);
    const { listener } = this;
    this.listener = undefined;
    listener?.();
  }
}

/** A backend's response: status and headers, and its body for one reader. */
export class UpstreamResponse implements Dispatcher.DispatchHandler {
  statusCode = 0;
  headers: Headers = {};
  private controller: Dispatcher.DispatchController | undefined;
  private sink: BodySink | undefined;
  /** How the body ended before a reader took it: 'end', or the error. */
  private outcome: 'end' | Error | undefined;
  private settled = false;
  private readonly onAbort = (): void => this.controller?.abort(this.abortReason());

  constructor(
    /** What aborts the request: an attempt's controller (told directly), or a signal (listened to). */
    private readonly abortable: AbortSignal | AttemptController,
    private readonly resolve: (response: UpstreamResponse) => void,
    private readonly reject: (error: Error) => void,
  ) {
    if (abortable instanceof AttemptController) abortable.watch(this.onAbort);
    else abortable.addEventListener('abort', this.onAbort, { once: true });
  }

  /** The abort's reason (an aborted controller has made its signal). */
  private abortReason(): Error {
    const { abortable } = this;
    return (abortable instanceof AttemptController ? abortable.signal : abortable).reason as Error;
  }

  private stopWatching(): void {
    const { abortable } = this;
    if (abortable instanceof AttemptController) abortable.unwatch();
    else abortable.removeEventListener('abort', this.onAbort);
  }

  /** Takes the body: `sink` is told each chunk, then its end or an error. */
  pipe(sink: BodySink): void {
    this.sink = sink;
    const outcome = this.outcome;
    if (outcome === 'end') sink.end();
    else if (outcome !== undefined) sink.error(outcome);
    else this.controller?.resume();
  }

  /** Reads the whole body (at most `maxBytes`, else it fails). */
  read(maxBytes: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      this.pipe({
        data: (chunk) => {
          size += chunk.length;
          if (size > maxBytes) this.abort(new Error(`backend response larger than ${maxBytes} bytes`));
          else chunks.push(chunk);
        },
        end: () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)),
        error: reject,
      });
    });
  }

  /** Stops reading the backend's socket until `resume` (the client is slower than the backend). */
  pause(): void {
    this.controller?.pause();
  }

  resume(): void {
    this.controller?.resume();
  }

  /** Ends the request now; the sink is told `error(reason)` unless the body already ended. */
  abort(reason: Error): void {
    this.controller?.abort(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortable.aborted) controller.abort(this.abortReason());
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Headers): void {
    if (statusCode < 200) return; // 1xx informational
    this.statusCode = statusCode;
    this.headers = headers;
    // undici keeps the raw header lines on the controller for the response's life: views into the socket's first read,
    // a dozen Buffers that would hold that read's memory as long as a stream lasts (~2 KB). Read above; let go.
    controller.rawHeaders = null;
    // Nothing is read until a reader takes the body.
    controller.pause();
    this.settled = true;
    this.resolve(this);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.sink?.data(chunk);
  }

  onResponseEnd(): void {
    this.stopWatching();
    if (this.sink) this.sink.end();
    else this.outcome = 'end';
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.stopWatching();
    if (!this.settled) {
      this.settled = true;
      this.reject(error);
    } else if (this.sink) this.sink.error(error);
    else this.outcome = error;
  }
}
