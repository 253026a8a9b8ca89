import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';

/** A backend's whole answer: what a non-streaming request needs of it. */
export interface WholeResponse {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/**
 * Sends one request and collects its whole answer through undici's `dispatch` handler API: for non-streaming
 * requests, whose answers the gateway reads whole. undici's `request` wraps each answer's body in a Readable stream,
 * with its events and ticks; a short answer needs none of that. Rejects with undici's own errors (the pool's
 * timeouts), with `signal`'s reason when it aborts the request, or when the body passes `maxBytes`. An error
 * answer (status 400 or more) whose body breaks off resolves with the body it has, as its status says more.
 */
export function requestWhole(
  dispatcher: Dispatcher,
  options: Omit<Dispatcher.DispatchOptions, 'signal'>,
  signal: AbortSignal,
  maxBytes: number,
): Promise<WholeResponse> {
  return new Promise<WholeResponse>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const handler = new WholeResponseHandler(signal, maxBytes, resolve, reject);
    signal.addEventListener('abort', handler, { once: true });
    dispatcher.dispatch(options, handler);
  });
}

/** Collects the answer; it is also the abort listener (`handleEvent`), so that a request allocates one object for both. */
class WholeResponseHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private statusCode = 0;
  private headers: IncomingHttpHeaders = {};
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private settled = false;

  constructor(
    private readonly signal: AbortSignal,
    private readonly maxBytes: number,
    private readonly resolve: (response: WholeResponse) => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  /** The signal aborted: abort the request now, or as soon as it is on a connection. */
  handleEvent(): void {
    this.controller?.abort(this.signal.reason as Error);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.signal.aborted) controller.abort(this.signal.reason as Error);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.statusCode = statusCode;
    this.headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      controller.abort(new Error(`backend response larger than ${this.maxBytes} bytes`));
      return;
    }
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.finish()) {
      const { chunks } = this;
      this.resolve({ statusCode: this.statusCode, headers: this.headers, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.size) });
    }
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (!this.finish()) return;
    if (this.statusCode >= 400) this.resolve({ statusCode: this.statusCode, headers: this.headers, body: Buffer.concat(this.chunks, this.size) });
    else this.reject(error);
  }

  private finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.signal.removeEventListener('abort', this);
    return true;
  }
}
