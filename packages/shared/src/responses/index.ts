export { NO_KEY_OWNER, isResponseId, ownerOf } from './response-store.js';
export type { ResponseLookup, ResponseStore, SaveOutcome, StoredResponse } from './response-store.js';
export { STORED_RESPONSE_VERSION, decodeStoredResponse, encodeStoredResponse } from './stored-response-document.js';
export type { EncodedResponse } from './stored-response-document.js';
export { MemoryResponseStore } from './memory-response-store.js';
export type { MemoryResponseStoreOptions } from './memory-response-store.js';
export { RedisResponseStore } from './redis-response-store.js';
export type { RedisResponseStoreOptions } from './redis-response-store.js';
export { responseNotFound, previousResponseNotFound, storedResponsesUnavailable } from './response-errors.js';
