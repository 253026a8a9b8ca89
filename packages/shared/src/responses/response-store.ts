/**
 * A response the Responses API kept (`store: true`), with what continuing it needs, so that a continuation
 * (`previous_response_id`) costs one read however long the conversation is.
 */
export interface StoredResponse {
  /** The Response object's id, `resp_…`. */
  readonly id: string;
  /** The API key that created it: only that key can read, continue or delete it. Absent when the gateway runs open. */
  readonly keyId?: string;
  /** The deployment that served it: a continuation is pinned to it while it is a candidate. */
  readonly deployment: string;
  /** When it was stored (ms since the epoch). */
  readonly createdAt: number;
  /** The Response object as the client received it (non-streamed: the body; streamed: `response.completed`'s). */
  readonly response: Readonly<Record<string, unknown>>;
  /**
   * The conversation before this response's output, as Responses input items: the items of every earlier response of
   * its `previous_response_id` chain, their outputs included, then this turn's own input. A continuation's input is
   * these, then `response.output`, then its own.
   */
  readonly input: readonly unknown[];
}

/** What saving did: the response is kept, or it was too large and only a marker saying so is. */
export type SaveOutcome =
  | { readonly saved: true; readonly bytes: number }
  | { readonly saved: false; readonly reason: 'too_large'; readonly bytes: number; readonly limit: number };

/** What a lookup found, for the key that asked. Another key's response is `missing`, exactly like an absent one. */
export type ResponseLookup =
  | { readonly found: true; readonly stored: StoredResponse }
  | { readonly found: false; readonly reason: 'missing' }
  /** The response existed but was larger than `responses.store.maxBytesPerResponse`, so it was not kept. */
  | { readonly found: false; readonly reason: 'too_large'; readonly bytes: number; readonly limit: number };

/**
 * Stored responses, scoped to the key that made them: every read and delete names the asking key, and a response
 * of another key is never returned nor deleted. Kept for a TTL; an expired one is `missing`. Implementations: in
 * memory (embedded mode) and in Redis (cluster mode).
 */
export interface ResponseStore {
  /** Keeps a response for the TTL; a response larger than the bound is not kept (a marker says why). */
  save(response: StoredResponse): Promise<SaveOutcome>;
  /** The response `id` if the key `keyId` (undefined: the gateway runs open) stored it and it has not expired. */
  get(keyId: string | undefined, id: string): Promise<ResponseLookup>;
  /** Deletes the key's response `id`; false when that key has no such response. */
  delete(keyId: string | undefined, id: string): Promise<boolean>;
  close(): Promise<void>;
}

/** The owner name of responses made without a key (open mode): never a key id, which all start with `key_`. */
export const NO_KEY_OWNER = '-';

/** A response id the stores accept: what the gateway generates (`resp_` and base64url or hex), at most 200 characters. */
const RESPONSE_ID = /^[A-Za-z0-9_-]{1,200}$/;

export function isResponseId(id: string): boolean {
  return RESPONSE_ID.test(id);
}

export function ownerOf(keyId: string | undefined): string {
  return keyId ?? NO_KEY_OWNER;
}
