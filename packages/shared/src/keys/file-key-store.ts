import type { Logger } from '../logger/logger.js';
import { JournalFile, type JournalFileOptions } from '../storage/journal-file.js';
import type { ApiKeyFields, ApiKeyRecord, IssuedKey, KeyStore } from './api-key.js';
import { MemoryKeyStore, type KeyEntry } from './memory-key-store.js';
import { isStoredKey, type StoredKey } from './stored-key.js';

export interface FileKeyStoreOptions {
  /** The journal, e.g. `<dataDir>/keys.jsonl`. */
  readonly path: string;
  readonly logger: Logger;
  /** Last-use times are written at most this often, batched (default 1000 ms, as the Redis store's). */
  readonly touchFlushMs?: number;
  /** Passed to the journal (tests use small ones). */
  readonly journal?: Pick<JournalFileOptions, 'fsyncIntervalMs' | 'compactMinBytes'>;
}

/**
 * Embedded mode's keys, kept across restarts: a MemoryKeyStore that answers every lookup, and a journal
 * (`keys.jsonl`) that every change is written to. A key's line holds its whole stored form (hashes only, never a
 * secret), so the last line of a key is its state; last-use times are lines of their own, batched. A create, update,
 * revoke or rotate resolves only once its line is fsynced: an admin who saw a revocation succeed never sees it undone
 * by a restart.
 */
export class FileKeyStore implements KeyStore {
  private pendingTouches = new Map<string, number>();
  private touchTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly memory: MemoryKeyStore,
    private readonly journal: JournalFile,
    private readonly touchFlushMs: number,
  ) {}

  /** Reads the journal (a new one when there is none) and keeps it open for writing. */
  static async open(options: FileKeyStoreOptions): Promise<FileKeyStore> {
    const entries = new Map<string, { stored: StoredKey; lastUsedAt?: number }>();
    let memory: MemoryKeyStore | undefined;
    const journal = await JournalFile.open(
      { ...options.journal, path: options.path, kind: 'keys', logger: options.logger },
      {
        replay: (entry) => replayKeyEntry(entries, entry),
        // At open the memory store does not exist yet: the snapshot is what was read.
        snapshot: () => [...(memory ? memory.entries() : entries.values())].map(keyLine),
      },
    );
    memory = new MemoryKeyStore({ restored: entries.values(), onChange: (stored) => journal.append({ key: stored }) });
    return new FileKeyStore(memory, journal, options.touchFlushMs ?? 1_000);
  }

  async create(fields: ApiKeyFields, now: number): Promise<IssuedKey> {
    const issued = await this.memory.create(fields, now);
    await this.journal.sync();
    return issued;
  }

  get(id: string): Promise<ApiKeyRecord | undefined> {
    return this.memory.get(id);
  }

  list(): Promise<ApiKeyRecord[]> {
    return this.memory.list();
  }

  async update(id: string, fields: Partial<ApiKeyFields>, now: number): Promise<ApiKeyRecord | undefined> {
    const updated = await this.memory.update(id, fields, now);
    if (updated) await this.journal.sync();
    return updated;
  }

  async revoke(id: string, now: number): Promise<boolean> {
    const revoked = await this.memory.revoke(id, now);
    if (revoked) await this.journal.sync();
    return revoked;
  }

  async rotate(id: string, graceMs: number, now: number): Promise<IssuedKey | undefined> {
    const issued = await this.memory.rotate(id, graceMs, now);
    if (issued) await this.journal.sync();
    return issued;
  }

  findByHash(secretHash: string, now: number): Promise<ApiKeyRecord | undefined> {
    return this.memory.findByHash(secretHash, now);
  }

  touch(id: string, now: number): void {
    if (this.closed) return;
    this.memory.touch(id, now);
    if (now > (this.pendingTouches.get(id) ?? 0)) this.pendingTouches.set(id, now);
    if (this.touchTimer) return;
    this.touchTimer = setTimeout(() => {
      this.touchTimer = undefined;
      this.writeTouches();
    }, this.touchFlushMs);
    this.touchTimer.unref();
  }

  /** Writes the batched last-use times and closes the journal. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.touchTimer);
    this.writeTouches();
    await this.journal.close();
  }

  private writeTouches(): void {
    for (const [id, at] of this.pendingTouches) this.journal.append({ used: id, at });
    this.pendingTouches = new Map();
  }
}

/** A key's line in the journal: `{ key: <stored form>, lastUsedAt? }`. */
function keyLine({ stored, lastUsedAt }: KeyEntry): object {
  return lastUsedAt === undefined ? { key: stored } : { key: stored, lastUsedAt };
}

/** Applies one journal line: a key's whole state, or a last use (`{ used: <id>, at }`). */
function replayKeyEntry(entries: Map<string, KeyEntry>, entry: unknown): void {
  const line = entry as { key?: unknown; lastUsedAt?: unknown; used?: unknown; at?: unknown } | null;
  if (line !== null && isStoredKey(line.key)) {
    const lastUsedAt = typeof line.lastUsedAt === 'number' ? line.lastUsedAt : entries.get(line.key.id)?.lastUsedAt;
    entries.set(line.key.id, lastUsedAt === undefined ? { stored: line.key } : { stored: line.key, lastUsedAt });
    return;
  }
  if (line !== null && typeof line.used === 'string' && typeof line.at === 'number') {
    const known = entries.get(line.used);
    if (known && line.at > (known.lastUsedAt ?? 0)) entries.set(line.used, { stored: known.stored, lastUsedAt: line.at });
    return;
  }
  throw new Error(`not an API key entry: ${JSON.stringify(entry).slice(0, 200)}`);
}
