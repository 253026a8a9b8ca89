import { Counter, type Registry } from 'prom-client';
import {
  isRecord,
  previousResponseNotFound,
  responseNotFound,
  storedResponsesUnavailable,
  type Logger,
  type ResponseLookup,
  type ResponseStore,
} from '@dosrouter/shared';

/** What continuing a stored response (`previous_response_id`) starts from. */
export interface Continuation {
  /** The previous response's id. */
  readonly id: string;
  /** The conversation so far, as Responses input items: the stored input, then the stored response's output. */
  readonly items: readonly unknown[];
  /** The deployment that served the previous response: the new one is pinned to it while it is a candidate. */
  readonly deployment: string;
}

/** A finished response to keep (`store: true`). */
export interface ResponseToKeep {
  /** The Response object as the client received it; its `id` names it. */
  readonly response: Readonly<Record<string, unknown>>;
  /** The key that made it; undefined when the gateway runs open. */
  readonly keyId: string | undefined;
  readonly deployment: string;
  /** The conversation before its output: the continuation's items, then this request's input (conversationInput). */
  readonly input: readonly unknown[];
}

type KeepOutcome = 'stored' | 'too_large' | 'failed';

/** At most one log line a minute about responses that could not be stored. */
const FAILURE_LOG_INTERVAL_MS = 60_000;

/**
 * The gateway's side of stored responses, over the ResponseStore of its mode (memory or Redis): the continuation
 * a `previous_response_id` names, keeping a finished response without holding up its answer, and the reads and
 * deletes of `GET`/`DELETE /v1/responses/{id}`, each with the client's error when it fails. Everything is scoped to
 * the asking key. Absent store (`responses.store.enabled: false`): nothing is kept, nothing is found.
 */
export class StoredResponses {
  private readonly kept: Counter<'outcome'>;
  private lastFailureLoggedAt: number | undefined;
  private unloggedFailures = 0;

  constructor(
    private readonly store: ResponseStore | undefined,
    private readonly logger: Logger,
    registry: Registry,
    private readonly clock: () => number = Date.now,
  ) {
    this.kept = new Counter({
      name: 'dosrouter_stored_responses_total',
      help: 'Responses asked to be stored (store: true), by outcome: stored, too_large (past responses.store.maxBytesPerResponse: not kept), failed (the store did not take it).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    });
  }

  /** Responses are kept (`responses.store.enabled`). */
  get enabled(): boolean {
    return this.store !== undefined;
  }

  /**
   * The conversation `previousId` continues, for the key `keyId`. Throws the 400 `previous_response_not_found` when
   * this key has no such response (absent, expired, another key's, too large to have been kept, or nothing is kept),
   * a 503 when the store cannot be read.
   */
  async continuation(keyId: string | undefined, previousId: string): Promise<Continuation> {
    if (this.store === undefined) throw previousResponseNotFound(previousId, undefined, true);
    const lookup = await lookupIn(this.store, keyId, previousId);
    if (!lookup.found) throw previousResponseNotFound(previousId, lookup);
    const { stored } = lookup;
    const output = Array.isArray(stored.response.output) ? stored.response.output : [];
    return { id: stored.id, items: [...stored.input, ...output], deployment: stored.deployment };
  }

  /**
   * Keeps a finished response, without the caller waiting for the store's answer: the write (its JSON made, then the
   * store's command) is issued now, when the writers are told the Response is finished and before its last bytes go
   * to the client, so the command is on the wire to Redis before the client can have read the end, and a client that
   * continues at once through another replica finds it. (Issued after the last bytes instead, a loaded replica could
   * be descheduled between the two and another replica's read overtake the write: seen as a 400
   * previous_response_not_found in the cluster test.) Its failure is logged and counted, never the client's.
   */
  keep(response: ResponseToKeep): void {
    const { store } = this;
    if (store !== undefined) this.save(store, response);
  }

  private save(store: ResponseStore, response: ResponseToKeep): void {
    const id = response.response.id;
    if (typeof id !== 'string') {
      this.count('failed');
      this.logger.error('a response to store has no id; not stored');
      return;
    }
    store
      .save({
        id,
        ...(response.keyId !== undefined ? { keyId: response.keyId } : {}),
        deployment: response.deployment,
        createdAt: this.clock(),
        response: response.response,
        input: response.input,
      })
      .then(
        (outcome) => {
          if (outcome.saved) {
            this.count('stored');
            return;
          }
          this.count('too_large');
          this.logger.warn('a response was not stored: larger than responses.store.maxBytesPerResponse; continuing it will be refused with the reason', {
            responseId: id,
            keyId: response.keyId,
            bytes: outcome.bytes,
            limit: outcome.limit,
          });
        },
        (error: unknown) => {
          this.count('failed');
          this.warnFailedSave(id, response.keyId, error);
        },
      );
  }

  /** The Response object `id` of the key `keyId`; the 404 `not_found` when it has none by that id. */
  async read(keyId: string | undefined, id: string): Promise<Readonly<Record<string, unknown>>> {
    if (this.store === undefined) throw responseNotFound(id);
    const lookup = await lookupIn(this.store, keyId, id);
    if (!lookup.found) throw responseNotFound(id, lookup);
    return lookup.stored.response;
  }

  /** Deletes the key's response `id`; the 404 `not_found` when it has none by that id. */
  async remove(keyId: string | undefined, id: string): Promise<void> {
    if (this.store === undefined) throw responseNotFound(id);
    let deleted: boolean;
    try {
      deleted = await this.store.delete(keyId, id);
    } catch (error) {
      throw storedResponsesUnavailable(error);
    }
    if (!deleted) throw responseNotFound(id);
  }

  async close(): Promise<void> {
    await this.store?.close();
  }

  /**
   * While Redis is down every stored answer fails: the first failure is logged, then at most one line a minute with
   * how many failed meanwhile (the metric counts each).
   */
  private warnFailedSave(responseId: string, keyId: string | undefined, error: unknown): void {
    const now = this.clock();
    if (this.lastFailureLoggedAt !== undefined && now - this.lastFailureLoggedAt < FAILURE_LOG_INTERVAL_MS) {
      this.unloggedFailures += 1;
      return;
    }
    this.logger.warn('a response could not be stored', {
      responseId,
      keyId,
      error: error instanceof Error ? error.message : String(error),
      ...(this.unloggedFailures > 0 ? { failedSinceLastLine: this.unloggedFailures } : {}),
    });
    this.lastFailureLoggedAt = now;
    this.unloggedFailures = 0;
  }

  private count(outcome: KeepOutcome): void {
    this.kept.inc({ outcome });
  }
}

/** A lookup, with a store that fails answered as the client's 503. */
async function lookupIn(store: ResponseStore, keyId: string | undefined, id: string): Promise<ResponseLookup> {
  try {
    return await store.get(keyId, id);
  } catch (error) {
    throw storedResponsesUnavailable(error);
  }
}

/**
 * The conversation before a response's output, as Responses input items: what a continuation started from, then the
 * request's own `input` (a string is one user message, as the Responses API reads it). `instructions` are not part
 * of it: as in OpenAI's API, they do not carry over to the next response.
 */
export function conversationInput(continuation: Continuation | undefined, input: unknown): unknown[] {
  const own = typeof input === 'string' ? [{ role: 'user', content: input }] : Array.isArray(input) ? input : isRecord(input) ? [input] : [];
  return continuation === undefined ? [...own] : [...continuation.items, ...own];
}
