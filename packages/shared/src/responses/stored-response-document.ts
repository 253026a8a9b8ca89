import { isRecord } from '../json.js';
import type { ResponseLookup, StoredResponse } from './response-store.js';

/**
 * The one serialised form of a stored response, in both stores: a JSON document with a schema version. A reader
 * that does not know the version takes the response for missing (a newer release's, during a rolling deploy).
 */
export const STORED_RESPONSE_VERSION = 1;

interface ResponseDocument {
  readonly v: typeof STORED_RESPONSE_VERSION;
  readonly id: string;
  readonly key: string | null;
  readonly deployment: string;
  readonly createdAt: number;
  readonly response: Record<string, unknown>;
  readonly input: unknown[];
}

/** What is kept of a response too large to store: that it existed, and its size, so a continuation is told why. */
interface RefusalDocument {
  readonly v: typeof STORED_RESPONSE_VERSION;
  readonly id: string;
  readonly key: string | null;
  readonly refused: { readonly bytes: number; readonly limit: number };
}

export type EncodedResponse =
  | { readonly saved: true; readonly text: string; readonly bytes: number }
  | { readonly saved: false; readonly text: string; readonly bytes: number; readonly limit: number };

/** The document to keep for `stored`: the response itself, or, past `maxBytes`, the marker of its refusal. */
export function encodeStoredResponse(stored: StoredResponse, maxBytes: number): EncodedResponse {
  const document: ResponseDocument = {
    v: STORED_RESPONSE_VERSION,
    id: stored.id,
    key: stored.keyId ?? null,
    deployment: stored.deployment,
    createdAt: stored.createdAt,
    response: stored.response,
    input: [...stored.input],
  };
  const text = JSON.stringify(document);
  const bytes = Buffer.byteLength(text);
  if (bytes <= maxBytes) return { saved: true, text, bytes };
  const refusal: RefusalDocument = { v: STORED_RESPONSE_VERSION, id: stored.id, key: stored.keyId ?? null, refused: { bytes, limit: maxBytes } };
  return { saved: false, text: JSON.stringify(refusal), bytes, limit: maxBytes };
}

/**
 * What a kept document says, for the key `keyId`: a document of another key, of another id, of an unknown version
 * or not a document at all reads as missing.
 */
export function decodeStoredResponse(text: string, keyId: string | undefined, id: string): ResponseLookup {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return MISSING;
  }
  if (!isRecord(document) || document.v !== STORED_RESPONSE_VERSION || document.id !== id || document.key !== (keyId ?? null)) return MISSING;
  const { refused } = document;
  if (isRecord(refused)) {
    return typeof refused.bytes === 'number' && typeof refused.limit === 'number' ? { found: false, reason: 'too_large', bytes: refused.bytes, limit: refused.limit } : MISSING;
  }
  const { deployment, createdAt, response, input } = document;
  if (typeof deployment !== 'string' || typeof createdAt !== 'number' || !isRecord(response) || !Array.isArray(input)) return MISSING;
  return {
    found: true,
    stored: { id, ...(keyId !== undefined ? { keyId } : {}), deployment, createdAt, response, input },
  };
}

const MISSING: ResponseLookup = { found: false, reason: 'missing' };
