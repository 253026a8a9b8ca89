import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * Counts work not yet over (responses of the servers it is attached to, or whatever calls enter/leave), so that a
 * drain can wait for it. While draining, every response asks the client to close its keep-alive connection, so
 * that idle connections go away instead of taking new requests.
 */
export class InFlightTracker {
  private active = 0;
  private draining = false;
  private idleWaiters: (() => void)[] = [];

  attach(server: Server): void {
    server.on('request', (_request: IncomingMessage, response: ServerResponse) => {
      this.enter();
      if (this.draining) response.setHeader('connection', 'close');
      response.once('close', () => this.leave());
    });
  }

  enter(): void {
    this.active += 1;
  }

  leave(): void {
    this.active -= 1;
    if (this.active === 0) this.releaseWaiters();
  }

  get count(): number {
    return this.active;
  }

  startDraining(): void {
    this.draining = true;
  }

  /** Resolves true when nothing is in flight, or false when the deadline passes first. */
  whenIdle(deadlineMs: number): Promise<boolean> {
    if (this.active === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((waiter) => waiter !== onIdle);
        resolve(false);
      }, deadlineMs);
      const onIdle = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(onIdle);
    });
  }

  private releaseWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const waiter of waiters) waiter();
  }
}
