import type { ConfigSnapshot } from './config-snapshot.js';

/**
 * The config snapshot new requests get, and the ones requests still run on. `acquire` (when a request is accepted)
 * and `release` (when its response is over) count a snapshot's requests; `swap` puts a new snapshot in place in one
 * assignment. A replaced snapshot's backends that the new one did not keep are closed once its last request is over.
 */
export class LiveConfig {
  private snapshot: ConfigSnapshot;
  /** Replaced snapshots that requests still run on. */
  private readonly draining = new Set<ConfigSnapshot>();

  constructor(initial: ConfigSnapshot) {
    this.snapshot = initial;
  }

  get current(): ConfigSnapshot {
    return this.snapshot;
  }

  /** The current snapshot, counted as used until `release`. */
  acquire(): ConfigSnapshot {
    const snapshot = this.snapshot;
    snapshot.users += 1;
    return snapshot;
  }

  release(snapshot: ConfigSnapshot): void {
    snapshot.users -= 1;
    if (snapshot.users === 0 && this.draining.delete(snapshot)) void this.retire(snapshot);
  }

  /** Puts `next` in place for new requests; the replaced snapshot's own backends close once its requests are over. */
  swap(next: ConfigSnapshot): ConfigSnapshot {
    const previous = this.snapshot;
    this.snapshot = next;
    if (previous.users === 0) void this.retire(previous);
    else this.draining.add(previous);
    return previous;
  }

  /** Shutdown: every snapshot's backends destroyed (the drain is over; what is left is cut). */
  async close(): Promise<void> {
    const draining = [...this.draining];
    this.draining.clear();
    await Promise.all(draining.map((snapshot) => snapshot.backends.destroy([this.snapshot.backends])));
    await this.snapshot.backends.destroy();
  }

  /** Closes what only `snapshot` held: a backend the current snapshot or a draining one kept stays open. */
  private retire(snapshot: ConfigSnapshot): Promise<void> {
    return snapshot.backends.close([this.snapshot, ...this.draining].map((other) => other.backends)).catch(() => undefined);
  }
}
