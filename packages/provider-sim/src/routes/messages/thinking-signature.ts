import { createHash } from 'node:crypto';

/**
 * The signature of a thinking block: a digest of its text, base64 like Anthropic's opaque signatures. Deterministic, so
 * that any simulator accepts a thinking block another one wrote, and rejects one whose text was changed.
 */
export function signatureOf(thinking: string): string {
  return createHash('sha256').update('dosrouter-simulator-thinking\u0000').update(thinking).digest('base64');
}
