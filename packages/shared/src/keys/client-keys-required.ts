import type { KeyStore } from './api-key.js';

/**
 * Whether a process of this cluster requires client keys, by `auth.mode`: `keys` always, `open` never, `auto` when
 * DOSROUTER_ADMIN_KEY is set, or, without it, when the cluster's store already holds a key that is not revoked, so
 * that one process started without the admin key is not an open door to backends the others guard. A store that
 * cannot be read counts as holding no keys (checked once, at start). Gateways and probers decide with this.
 */
export async function clientKeysRequired(
  mode: 'auto' | 'keys' | 'open',
  adminKey: string | undefined,
  store: Pick<KeyStore, 'list'> | undefined,
): Promise<boolean> {
  if (mode !== 'auto') return mode === 'keys';
  if (adminKey !== undefined && adminKey !== '') return true;
  if (store === undefined) return false;
  return (await store.list().catch(() => [])).some((key) => key.revokedAt === undefined);
}
