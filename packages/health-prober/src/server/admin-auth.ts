import { createHash, timingSafeEqual } from 'node:crypto';

/** The realm a browser names in its login prompt. Any user name is accepted; the admin key is the password. */
export const ADMIN_REALM = 'dosrouter-admin';

/** The `WWW-Authenticate` challenge sent with a 401, so that a browser asks for the credential. */
export const ADMIN_CHALLENGE = `Basic realm="${ADMIN_REALM}"`;

/** What an `Authorization` header amounts to, before any comparison with the key. */
export type PresentedCredential = { readonly kind: 'missing' } | { readonly kind: 'malformed' } | { readonly kind: 'key'; readonly key: string };

/** Base64 as RFC 7617 sends it; Buffer.from(…, 'base64') would silently skip anything else. */
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Reads the admin key from an `Authorization` header: `Bearer <key>`, or HTTP Basic with any user name and the key
 * as password (`Basic base64(user:key)`), so that a browser can log in. Scheme names are case-insensitive (RFC 9110).
 * An empty key is malformed.
 */
export function presentedCredential(authorization: string | undefined): PresentedCredential {
  if (authorization === undefined || authorization.trim() === '') return { kind: 'missing' };
  const match = /^\s*(\S+)\s+(\S+)\s*$/.exec(authorization);
  if (!match) return { kind: 'malformed' };
  const scheme = match[1]!.toLowerCase();
  const value = match[2]!;
  if (scheme === 'bearer') return { kind: 'key', key: value };
  if (scheme !== 'basic' || !BASE64.test(value)) return { kind: 'malformed' };
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  // The password is everything after the first colon: a user name cannot contain one, a password can.
  if (colon < 0 || colon === decoded.length - 1) return { kind: 'malformed' };
  return { kind: 'key', key: decoded.slice(colon + 1) };
}

/**
 * Builds the check for one admin key. Both sides are hashed with SHA-256 before timingSafeEqual, so that neither the
 * key's content nor its length shows in how long a comparison takes. Throws on an empty key: a caller decides what
 * an unset key means (the prober disables its admin pages) before building a check.
 */
export function createAdminKeyCheck(adminKey: string): (credential: PresentedCredential) => boolean {
  if (adminKey === '') throw new Error('The admin key is empty: set DOSROUTER_ADMIN_KEY to a non-empty secret.');
  const expected = sha256(adminKey);
  return function adminKeyMatches(credential: PresentedCredential): boolean {
    return credential.kind === 'key' && timingSafeEqual(sha256(credential.key), expected);
  };
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
