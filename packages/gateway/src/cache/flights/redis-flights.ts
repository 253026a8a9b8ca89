import { randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import type { Logger, RedisClient, RedisHealth, RedisKeys, ScriptCommands } from '@dosrouter/shared';
import { LocalFlights, type FlightEvent, type FlightPublisher, type FlightRole, type Flights, type LocalFlight } from './flight.js';

/** How long a flight's stream outlives its last event: followers that join late still read it whole. */
const STREAM_TTL_MS = 60_000;
/** The longest a stream lives while its leader writes (a dead leader's stream goes with it). */
const OPEN_STREAM_TTL_MS = 10 * 60_000;

/**
 * Cluster mode's flights (decision 0019). Requests on one replica share one local flight; the first of them asks
 * Redis for the flight's lock (`SET NX PX`). The winner leads: it renews the lock every third of its TTL while it
 * lives and appends its answer's events to a Redis Stream named by its token. The others follow: one reader per
 * replica and flight, on a connection of its own, reads the stream from its start with `XREAD BLOCK` (a stream is its
 * own catch-up buffer, which pub/sub is not) and hands the events to the replica's local followers. A reader that
 * hears nothing for a while checks the lock: gone (or another token) without an end, the leader died: it tells its
 * followers `fail`, and they look the answer up again and, missing, race for the lock (one of them leads next).
 * While Redis fails, each replica's requests still share their local flight.
 */
export class RedisFlights implements Flights {
  private readonly local = new LocalFlights();
  private readonly readers = new Set<RedisClient>();
  private closed = false;

  constructor(
    private readonly redis: RedisClient & ScriptCommands,
    private readonly keys: RedisKeys,
    private readonly replica: string,
    private readonly lockTtlMs: number,
    private readonly logger: Logger,
    /** While Redis is down or slow, a replica's identical requests share their local flight only. */
    private readonly health?: RedisHealth,
  ) {}

  join(hash: string): FlightRole | Promise<FlightRole> {
    const present = this.local.get(hash);
    if (present) return { role: 'follower', feed: present };
    // Registered before the round trip: the replica's other identical requests follow this one at once.
    return this.claim(hash, this.local.start(hash));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.local.close();
    for (const reader of this.readers) reader.disconnect();
  }

  private async claim(hash: string, flight: LocalFlight): Promise<FlightRole> {
    const token = `${this.replica}:${randomBytes(6).toString('hex')}`;
    if (this.health && !this.health.shouldTry()) return { role: 'leader', publisher: flight };
    let taken: boolean;
    try {
      taken = (await this.redis.set(this.keys.cacheFlightLock(hash), token, 'PX', this.lockTtlMs, 'NX')) === 'OK';
    } catch (error) {
      this.health?.markFailure(error);
      return { role: 'leader', publisher: flight };
    }
    if (taken) return { role: 'leader', publisher: this.leaderPublisher(hash, token, flight) };
    void this.follow(hash, flight);
    return { role: 'follower', feed: flight };
  }

  private leaderPublisher(hash: string, token: string, flight: LocalFlight): FlightPublisher {
    const lock = this.keys.cacheFlightLock(hash);
    const stream = this.keys.cacheFlightStream(hash, token);
    const renew = setInterval(() => {
      this.redis.dosrouterHoldFlightLockV1(1, lock, token, this.lockTtlMs).catch(() => undefined);
    }, Math.max(100, Math.floor(this.lockTtlMs / 3)));
    renew.unref();
    // Events written in one turn of the event loop go to Redis in one script call, in order.
    let pending: (string | Buffer)[] = [];
    let scheduled = false;
    let done = false;
    const flush = (last: boolean): void => {
      scheduled = false;
      if (pending.length === 0 && !last) return;
      const events = pending;
      pending = [];
      this.redis.dosrouterAppendFlightV1(2, stream, lock, token, last ? STREAM_TTL_MS : OPEN_STREAM_TTL_MS, last ? '1' : '0', ...events).catch(() => undefined);
    };
    return {
      publish: (event: FlightEvent) => {
        if (done) return;
        flight.publish(event);
        pending.push(...fieldsOf(event));
        if (event.kind === 'end' || event.kind === 'fail') {
          done = true;
          clearInterval(renew);
          flush(true);
        } else if (!scheduled) {
          scheduled = true;
          setImmediate(() => flush(false));
        }
      },
    };
  }

  /** Reads the leader's stream into this replica's flight until it ends, the leader dies, or no follower is left. */
  private async follow(hash: string, flight: LocalFlight): Promise<void> {
    const reader = this.blockingConnection();
    this.readers.add(reader);
    try {
      const lock = this.keys.cacheFlightLock(hash);
      const token = await this.redis.get(lock);
      // No leader any more: it just finished (its answer is stored) or died. Either way the followers look again.
      if (token === null) return flight.publish({ kind: 'fail' });
      const stream = this.keys.cacheFlightStream(hash, token);
      const blockMs = Math.max(50, Math.min(1_000, Math.floor(this.lockTtlMs / 2)));
      let lastId = '0';
      const take = (reply: unknown): boolean => {
        for (const [id, fields] of entriesOf(reply)) {
          lastId = id;
          const event = eventOf(fields);
          if (!event) continue;
          flight.publish(event);
          if (event.kind === 'end' || event.kind === 'fail') return true;
        }
        return false;
      };
      while (!this.closed) {
        if (take(await reader.xreadBuffer('COUNT', 512, 'BLOCK', blockMs, 'STREAMS', stream, lastId))) return;
        if (flight.followers === 0) return flight.publish({ kind: 'fail' });
        if ((await this.redis.get(lock)) !== token) {
          // The lock is gone: what the leader wrote before it let go (its end) is read first.
          if (take(await reader.xreadBuffer('COUNT', 512, 'STREAMS', stream, lastId))) return;
          return flight.publish({ kind: 'fail' });
        }
      }
      flight.publish({ kind: 'fail' });
    } catch (error) {
      this.logger.warn('an in-flight answer could not be read from Redis: its followers go on their own', { error: error instanceof Error ? error.message : String(error) });
      flight.publish({ kind: 'fail' });
    } finally {
      this.readers.delete(reader);
      reader.disconnect();
    }
  }

  /** A connection of its own for XREAD BLOCK: no command deadline shorter than the block, no pipelining with others. */
  private blockingConnection(): RedisClient {
    const name = `dosrouter-gateway-${this.replica}-flight`;
    const connection =
      this.redis instanceof Cluster
        ? this.redis.duplicate([], { enableOfflineQueue: true, lazyConnect: true, enableAutoPipelining: false, redisOptions: { ...this.redis.options.redisOptions, connectionName: name, commandTimeout: undefined } })
        : this.redis.duplicate({ connectionName: name, enableOfflineQueue: true, commandTimeout: undefined, lazyConnect: true, enableAutoPipelining: false });
    connection.on('error', () => undefined);
    return connection;
  }
}

/** One event as the stream's entry holds it: its kind, and its data (`d`). */
function fieldsOf(event: FlightEvent): (string | Buffer)[] {
  switch (event.kind) {
    case 'head': {
      const { kind: _kind, ...head } = event;
      return ['head', JSON.stringify(head)];
    }
    case 'data':
      return ['data', event.chunk];
    case 'end':
      return ['end', String(event.costUsd)];
    case 'fail':
      return ['fail', event.alone ? 'alone' : ''];
  }
}

/** XREAD's reply for one stream as [id, fields] pairs. */
function entriesOf(reply: unknown): [string, Buffer[]][] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const entries = (reply[0] as [Buffer, [Buffer, Buffer[]][]])[1];
  return entries.map(([id, fields]) => [id.toString(), fields]);
}

function eventOf(fields: Buffer[]): FlightEvent | undefined {
  const values = new Map<string, Buffer>();
  for (let index = 0; index + 1 < fields.length; index += 2) values.set(fields[index]!.toString(), fields[index + 1]!);
  const kind = values.get('k')?.toString();
  const data = values.get('d');
  switch (kind) {
    case 'head': {
      const head = JSON.parse(data?.toString() ?? '{}') as Omit<Extract<FlightEvent, { kind: 'head' }>, 'kind'>;
      return { kind: 'head', ...head };
    }
    case 'data':
      return data ? { kind: 'data', chunk: data } : undefined;
    case 'end':
      return { kind: 'end', costUsd: Number(data?.toString() ?? 0) || 0 };
    case 'fail':
      return data?.toString() === 'alone' ? { kind: 'fail', alone: true } : { kind: 'fail' };
    default:
      return undefined;
  }
}
