export type { ApiKeyRecord, ApiKeyFields, IssuedKey, KeyStore } from './api-key.js';
export { SECRET_PREFIX, generateSecret, hashSecret, generateKeyId, previewOf, looksLikeKey } from './secrets.js';
export { MemoryKeyStore } from './memory-key-store.js';
export { RedisKeyStore } from './redis-key-store.js';
export { clientKeysRequired } from './client-keys-required.js';
export type { RedisKeyStoreOptions } from './redis-key-store.js';
export { createKeySchema, updateKeySchema, rotateKeySchema } from './key-fields-schema.js';
