import { createHash, randomBytes } from 'node:crypto';

/** What every client key secret starts with. */
export const SECRET_PREFIX = 'dr-';

/** A client key secret: `dr-` and 43 base64url characters (32 random bytes). */
const SECRET_FORMAT = /^dr-[A-Za-z0-9_-]{43}$/;

/** A new client key secret, `dr-` + 32 random bytes in base64url. Shown to the admin once; only its hash is kept. */
export function generateSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** The SHA-256 of a secret, in hex: what the stores keep and look keys up by. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A new key id, `key_` + 16 base64url characters (12 random bytes). Not a secret. */
export function generateKeyId(): string {
  return `key_${randomBytes(12).toString('base64url')}`;
}

/** The first characters of a secret (`dr-` and 4 more), to tell keys apart in lists; far too few to use it. */
export function previewOf(secret: string): string {
  return secret.slice(0, SECRET_PREFIX.length + 4);
}

/** Whether a text has the shape of a client key secret (no lookup: a cheap check before hashing). */
export function looksLikeKey(text: string): boolean {
  return SECRET_FORMAT.test(text);
}
