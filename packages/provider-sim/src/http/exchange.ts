import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { TimerWheel } from '../delivery/timer-wheel.js';
import type { ReportedUsage } from '../state/usage-ledger.js';

export interface ExchangeObserver {
  /** We wrote the whole response; `usage` is what it reported to the client, when it carried any. */
  onCompleted(usage: ReportedUsage | undefined): void;
  /** The client went away before we finished. */
  onAborted(): void;
}

/** The wait an exchange has on the wheel: at most one at a time, since an answer is generated step by step. */
interface PendingWait {
  cancel(): void;
  reject(error: Error): void;
}

function abortError(): Error {
  return new DOMException('The client left before the wait ended', 'AbortError');
}

/**
 * One request/response pair on a /v1 route. It knows whether the client is still there: when the connection closes
 * before we settle the exchange, the pending wait is taken off the timer wheel and rejects with an AbortError, so
 * generation stops and nothing of the stream is left scheduled.
 */
export class Exchange {
  private readonly abortController = new AbortController();
  private settled = false;
  private pendingWait: PendingWait | undefined;

  constructor(
    readonly response: ServerResponse,
    private readonly observer: ExchangeObserver,
    private readonly commonHeaders: Readonly<Record<string, string>>,
    private readonly wheel: TimerWheel,
  ) {
    response.once('close', () => {
      if (this.settle()) {
        this.abortController.abort();
        const pending = this.pendingWait;
        if (pending !== undefined) {
          this.pendingWait = undefined;
          pending.cancel();
          pending.reject(abortError());
        }
        this.observer.onAborted();
      }
    });
  }

  get aborted(): boolean {
    return this.abortController.signal.aborted;
  }

  /** True once nothing more can be sent: the client left or the connection was dropped. */
  get closed(): boolean {
    return this.aborted || this.response.destroyed;
  }

  /**
   * Resolves after `delayMs` (on the simulator's one timer wheel), at once for 0, or rejects with an AbortError when
   * the client leaves.
   */
  wait(delayMs: number): Promise<void> {
    if (this.aborted) {
      return Promise.reject(abortError());
    }
    if (delayMs <= 0) {
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const cancel = this.wheel.schedule(delayMs, () => {
        this.pendingWait = undefined;
        resolve();
      });
      this.pendingWait = { cancel, reject };
    });
  }

  writeHead(status: number, headers: Record<string, string | number>): void {
    this.response.writeHead(status, { ...this.commonHeaders, ...headers });
  }

  /** Sends the headers now, so that the client sees them before a delayed first token. */
  flushHeaders(): void {
    this.response.flushHeaders();
  }

  /** Writes and, when the socket buffer is full, waits for 'drain' before resolving. */
  async write(text: string): Promise<void> {
    if (!this.response.write(text)) {
      await once(this.response, 'drain', { signal: this.abortController.signal });
    }
  }

  /**
   * Finishes the response. `usage` is the usage the response carries intact, if any: passing it here, where the
   * response is known to be written to the end, keeps aborted answers out of the usage ledger.
   */
  end(text?: string, usage?: ReportedUsage): void {
    if (!this.settle()) {
      return;
    }
    this.observer.onCompleted(usage);
    if (text === undefined) {
      this.response.end();
    } else {
      this.response.end(text);
    }
  }

  sendJson(status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    this.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    this.end(text);
  }

  /** Writes `text`, waits until it reached the socket, then drops the connection mid-response. */
  destroyAfterWriting(text: string): void {
    if (!this.settle()) {
      return;
    }
    this.response.write(text, () => this.response.destroy());
  }

  /** Drops the connection with a TCP reset, so the client sees ECONNRESET rather than a clean close. */
  resetConnection(): void {
    if (!this.settle()) {
      return;
    }
    const socket = this.response.socket;
    if (socket !== null && typeof socket.resetAndDestroy === 'function') {
      socket.resetAndDestroy();
    } else {
      this.response.destroy();
    }
  }

  /** Marks the exchange as finished by us; false when it already was (or the client already left). */
  private settle(): boolean {
    if (this.settled) {
      return false;
    }
    this.settled = true;
    return true;
  }
}
