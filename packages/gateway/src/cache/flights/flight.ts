/** What a flight's leader tells its followers, in order: the answer's head, its bytes as written, then its end. */
export type FlightEvent =
  | { readonly kind: 'head'; readonly status: number; readonly contentType: string; readonly translated: boolean; readonly model: string; readonly deployment: string }
  | { readonly kind: 'data'; readonly chunk: Buffer }
  /** The answer is complete (and stored, when it could be): what it cost. */
  | { readonly kind: 'end'; readonly costUsd: number }
  /**
   * The leader failed or died: no complete answer will come. `alone`: its answer cannot be shared at all (an ingress
   * whose translated answers the cache cannot replay), so each follower goes to the backend on its own.
   */
  | { readonly kind: 'fail'; readonly alone?: boolean };

/** The leader's side: what its answer does, told once per event; `close` when it is done (releases the lock). */
export interface FlightPublisher {
  publish(event: FlightEvent): void;
}

/** A follower's side: every event so far, then each new one; returns the unsubscription. */
export interface FlightFeed {
  subscribe(listener: (event: FlightEvent) => void): () => void;
}

export type FlightRole = { readonly role: 'leader'; readonly publisher: FlightPublisher } | { readonly role: 'follower'; readonly feed: FlightFeed };

/** The flights of identical requests: in this process (embedded mode), or across the replicas through Redis. */
export interface Flights {
  /** Leads the flight of `hash` when there is none, else follows it. */
  join(hash: string): FlightRole | Promise<FlightRole>;
  close(): Promise<void>;
}

/**
 * One flight in this process: the events so far (a late follower gets them all, so the answer's bytes are held
 * until the flight ends) and the followers listening. Ends at `end` or `fail`.
 */
export class LocalFlight implements FlightFeed, FlightPublisher {
  private readonly events: FlightEvent[] = [];
  private readonly listeners = new Set<(event: FlightEvent) => void>();
  private done = false;

  constructor(private readonly onDone: () => void) {}

  get followers(): number {
    return this.listeners.size;
  }

  publish(event: FlightEvent): void {
    if (this.done) return;
    this.events.push(event);
    if (event.kind === 'end' || event.kind === 'fail') {
      this.done = true;
      this.onDone();
    }
    for (const listener of [...this.listeners]) listener(event);
    if (this.done) this.listeners.clear();
  }

  subscribe(listener: (event: FlightEvent) => void): () => void {
    for (const event of this.events) listener(event);
    if (!this.done) this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}

/** Embedded mode's flights: a map of the flights under way in this process. */
export class LocalFlights implements Flights {
  private readonly flights = new Map<string, LocalFlight>();

  join(hash: string): FlightRole {
    const current = this.flights.get(hash);
    if (current) return { role: 'follower', feed: current };
    return { role: 'leader', publisher: this.start(hash) };
  }

  /** The flight under way for `hash` in this process, if any. */
  get(hash: string): LocalFlight | undefined {
    return this.flights.get(hash);
  }

  /** A new flight for `hash`, registered until it ends. */
  start(hash: string): LocalFlight {
    const flight: LocalFlight = new LocalFlight(() => {
      if (this.flights.get(hash) === flight) this.flights.delete(hash);
    });
    this.flights.set(hash, flight);
    return flight;
  }

  close(): Promise<void> {
    for (const flight of [...this.flights.values()]) flight.publish({ kind: 'fail' });
    return Promise.resolve();
  }
}
