import { join, resolve } from 'node:path';
import type { KeyStore } from '../keys/api-key.js';
import { FileKeyStore } from '../keys/file-key-store.js';
import { MemoryKeyStore } from '../keys/memory-key-store.js';
import type { Logger } from '../logger/logger.js';
import type { SpendReader } from '../state/limits.js';
import { FileUsageLedger } from '../usage/file-usage-ledger.js';
import { MemoryUsageLedger } from '../usage/memory-usage-ledger.js';
import type { UsageLedger } from '../usage/usage-ledger.js';
import { lockDataDir } from './data-dir-lock.js';
import type { JournalFileOptions } from './journal-file.js';

export interface EmbeddedStorageOptions {
  /** config storage.dataDir: a directory, or null/undefined to keep everything in memory. */
  readonly dataDir: string | null | undefined;
  /** config usage.retentionDays. */
  readonly retentionDays: number;
  readonly logger: Logger;
  /** Passed to both journals (tests use small ones). */
  readonly journal?: Pick<JournalFileOptions, 'fsyncIntervalMs' | 'compactMinBytes'>;
}

/** Embedded mode's keys and usage ledger (whose spend budgets read), and what closes them. */
export interface EmbeddedStorage {
  readonly keys: KeyStore;
  readonly ledger: UsageLedger & SpendReader;
  /** The absolute data directory; undefined in memory. */
  readonly dataDir?: string;
  /** Writes what is queued, fsyncs and closes the journals, and gives the directory's lock back. */
  close(): Promise<void>;
}

/**
 * Opens embedded mode's stores: in `<dataDir>/keys.jsonl` and `<dataDir>/usage.jsonl`, the directory locked to this
 * process; or in memory when no directory is set (a restart forgets them: said at start).
 */
export async function openEmbeddedStorage(options: EmbeddedStorageOptions): Promise<EmbeddedStorage> {
  const { logger } = options;
  if (options.dataDir == null) {
    logger.warn('embedded mode keeps API keys and usage in memory only (storage.dataDir is not set): a restart forgets them');
    return { keys: new MemoryKeyStore(), ledger: new MemoryUsageLedger(options.retentionDays), close: async () => undefined };
  }
  const dataDir = resolve(options.dataDir);
  const unlock = await lockDataDir(dataDir);
  let keys: FileKeyStore | undefined;
  try {
    keys = await FileKeyStore.open({ path: join(dataDir, 'keys.jsonl'), logger, ...(options.journal ? { journal: options.journal } : {}) });
    const ledger = await FileUsageLedger.open({ path: join(dataDir, 'usage.jsonl'), logger, retentionDays: options.retentionDays, ...(options.journal ? { journal: options.journal } : {}) });
    logger.info('embedded mode keeps API keys and usage in its data directory', { dataDir });
    const opened = keys;
    return {
      keys: opened,
      ledger,
      dataDir,
      close: async () => {
        try {
          await Promise.all([opened.close(), ledger.close()]);
        } finally {
          await unlock();
        }
      },
    };
  } catch (error) {
    await keys?.close().catch(() => undefined);
    await unlock();
    throw error;
  }
}
