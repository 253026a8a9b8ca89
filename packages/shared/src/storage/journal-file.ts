import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../logger/logger.js';

/** What every journal's first line holds; a file of another kind or version is refused, never overwritten. */
const JOURNAL_VERSION = 1;

export interface JournalFileOptions {
  /** The file, e.g. `<dataDir>/keys.jsonl`. Its directory is created (mode 700) when missing. */
  readonly path: string;
  /** What the journal holds (`keys`, `usage`): written in its header line and checked at open. */
  readonly kind: string;
  readonly logger: Logger;
  /**
   * How often lines written since the last fsync are fsynced (default 1000 ms, Redis's `appendfsync everysec`).
   * Lines reach the operating system within `writeDelayMs` (a few milliseconds); a power cut loses at most this much more.
   */
  readonly fsyncIntervalMs?: number;
  /**
   * The journal is rewritten as a snapshot once it has grown past this many bytes and past twice its size after the
   * last rewrite (default 8 MiB; Redis's `auto-aof-rewrite-percentage 100`).
   */
  readonly compactMinBytes?: number;
  /** A failed write is tried again after this long (default 1000 ms). */
  readonly retryMs?: number;
  /**
   * Appended lines are written this long after the first of them (default 5 ms; 0: on the next turn of the event
   * loop): one write, one trip to the thread pool, for every line of that window instead of one per turn. A process
   * killed meanwhile loses them (a power cut loses up to `fsyncIntervalMs` anyway); `sync()` and `close()` write at once.
   */
  readonly writeDelayMs?: number;
}

/** See JournalFileOptions.writeDelayMs. */
const DEFAULT_WRITE_DELAY_MS = 5;

/** How a store fills itself from its journal and describes its state for a rewrite. */
export interface JournalState {
  /** Applies one entry read back at open. Throws when the entry is not one of the store's (the open fails). */
  replay(entry: unknown): void;
  /** The store's whole state as entries, at the moment of the call: what a rewrite writes. Fresh objects, not the store's own. */
  snapshot(): Iterable<object>;
}

/**
 * An append-only file of JSON lines, replayed at open and rewritten as a snapshot when it has grown. Appends never
 * wait: lines are batched and written `writeDelayMs` after the first (or, while a write is under way, after it),
 * fsynced every `fsyncIntervalMs`, or at once for a caller that awaits `sync()`. A rewrite goes to `<path>.tmp`, is fsynced, renamed over the journal and the
 * directory fsynced, so a crash leaves either the old journal or the new one. At open, an unreadable last line (a
 * write the crash cut short) is skipped with a warning; an unreadable line before it is corruption and fails the
 * open, naming the line: skipping it could undo a key's revocation.
 */
export class JournalFile {
  private pending: string[] = [];
  private flushScheduled = false;
  private flushTimer: NodeJS.Timeout | undefined;
  /** Every file operation runs on this chain, one at a time: writes, fsyncs, rewrites, close. */
  private chain: Promise<void> = Promise.resolve();
  private unsynced = false;
  private closed = false;
  private failing = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly fsyncTimer: NodeJS.Timeout;
  private readonly compactMinBytes: number;
  private readonly retryMs: number;
  private readonly writeDelayMs: number;

  private constructor(
    private readonly options: JournalFileOptions,
    private readonly state: JournalState,
    private handle: FileHandle,
    /** Bytes of whole lines in the file. */
    private size: number,
    /** Its size after the last rewrite. */
    private compactedSize: number,
  ) {
    this.compactMinBytes = options.compactMinBytes ?? 8 * 1024 * 1024;
    this.retryMs = options.retryMs ?? 1_000;
    this.writeDelayMs = options.writeDelayMs ?? DEFAULT_WRITE_DELAY_MS;
    this.fsyncTimer = setInterval(() => {
      if (this.unsynced) this.enqueue(() => this.fsync()).catch((error: unknown) => this.reportFailure(error));
    }, options.fsyncIntervalMs ?? 1_000);
    this.fsyncTimer.unref();
  }

  /** Reads the journal into `state` (nothing when there is none yet), then rewrites it as `state`'s snapshot. */
  static async open(options: JournalFileOptions, state: JournalState): Promise<JournalFile> {
    await mkdir(dirname(options.path), { recursive: true, mode: 0o700 });
    const text = await readFile(options.path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    replayText(text, options, state);
    const size = await rewrite(options, [...state.snapshot()]);
    const handle = await open(options.path, 'a', 0o600);
    return new JournalFile(options, state, handle, size, size);
  }

  /** Queues one entry; it reaches the file within `writeDelayMs`, and the disk within `fsyncIntervalMs` more. */
  append(entry: object): void {
    if (this.closed) throw new Error(`${this.options.path} is closed`);
    this.pending.push(`${JSON.stringify(entry)}\n`);
    if (this.flushScheduled || this.failing) return;
    this.scheduleFlush();
  }

  /**
   * Writes the queued lines `writeDelayMs` from now. Lines appended meanwhile, or while that write is under way, go
   * out together: a write per answer cost every answer a promise and a trip to the thread pool (whose worker and
   * wake-up of the event loop, with one request in flight, took the core from the next request), where one write
   * now carries every line of a few milliseconds.
   */
  private scheduleFlush(): void {
    this.flushScheduled = true;
    const flush = (): void => {
      this.flushTimer = undefined;
      this.enqueue(() => this.writePending())
        .catch((error: unknown) => this.reportFailure(error))
        .finally(() => {
          this.flushScheduled = false;
          if (this.pending.length > 0 && !this.failing && !this.closed) this.scheduleFlush();
        });
    };
    if (this.writeDelayMs > 0) this.flushTimer = setTimeout(flush, this.writeDelayMs);
    else setImmediate(flush);
  }

  /** Resolves once every entry appended so far is written and fsynced; rejects when writing fails. */
  sync(): Promise<void> {
    return this.enqueue(async () => {
      await this.writePending();
      await this.fsync();
    });
  }

  /** Writes and fsyncs what is queued, then closes the file. Never rejects: what cannot be written is logged as lost. */
  async close(): Promise<void> {
    if (this.closed) return this.chain;
    this.closed = true;
    clearInterval(this.fsyncTimer);
    clearTimeout(this.flushTimer);
    clearTimeout(this.retryTimer);
    await this.enqueue(async () => {
      try {
        await this.writePending();
        await this.fsync();
      } catch (error) {
        this.options.logger.error('cannot write the journal at close: its last entries are lost', {
          path: this.options.path,
          lostEntries: this.pending.length,
          error: error instanceof Error ? error.message : String(error),
        });
      } finally {
        await this.handle.close().catch(() => undefined);
      }
    });
  }

  private enqueue(operation: () => Promise<void>): Promise<void> {
    const result = this.chain.then(operation);
    this.chain = result.catch(() => undefined);
    return result;
  }

  private async writePending(): Promise<void> {
    if (this.pending.length === 0) return;
    const lines = this.pending;
    this.pending = [];
    const buffer = Buffer.from(lines.join(''), 'utf8');
    try {
      for (let offset = 0; offset < buffer.length; ) offset += (await this.handle.write(buffer, offset)).bytesWritten;
    } catch (error) {
      // Part of the batch may be in the file: cut it back to whole lines, and keep the batch to write again.
      await this.handle.truncate(this.size).catch(() => undefined);
      this.pending = [...lines, ...this.pending];
      throw error;
    }
    this.size += buffer.length;
    this.unsynced = true;
    if (this.failing) {
      this.failing = false;
      this.options.logger.info('journal writes work again', { path: this.options.path });
      // Lines appended during this write (a retry's or a sync's) found the journal failing and scheduled nothing.
      if (this.pending.length > 0 && !this.flushScheduled && !this.closed) this.scheduleFlush();
    }
    if (this.size > this.compactMinBytes && this.size > 2 * this.compactedSize) await this.compact();
  }

  private async fsync(): Promise<void> {
    if (!this.unsynced) return;
    this.unsynced = false;
    try {
      await this.handle.datasync();
    } catch (error) {
      this.unsynced = true;
      throw error;
    }
  }

  /** Rewrites the journal as the state's snapshot: the queued lines are in it, so they are dropped. */
  private async compact(): Promise<void> {
    // Taken whole before the first await: the state goes on changing while the file is written.
    const snapshot = [...this.state.snapshot()];
    this.pending = [];
    const size = await rewrite(this.options, snapshot);
    const previous = this.handle;
    this.handle = await open(this.options.path, 'a', 0o600);
    await previous.close();
    this.size = size;
    this.compactedSize = size;
    this.unsynced = false;
  }

  /** Logs a failed write once per run of failures and tries again later; the lines stay queued meanwhile. */
  private reportFailure(error: unknown): void {
    if (!this.failing) {
      this.options.logger.error('cannot write the journal: its entries are kept in memory and retried', {
        path: this.options.path,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    this.failing = true;
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.enqueue(async () => {
        await this.writePending();
        await this.fsync();
      }).catch((next: unknown) => this.reportFailure(next));
    }, this.retryMs);
    this.retryTimer.unref();
  }
}

/** Replays a journal's text into `state`; throws naming the file and line when it cannot be read. */
function replayText(text: string, options: JournalFileOptions, state: JournalState): void {
  if (text === '') return;
  const lines = text.split('\n');
  // A journal that ends in a newline leaves an empty last element; anything else there is a line cut short.
  const last = lines.length - 1;
  lines.forEach((line, index) => {
    if (index === last && line === '') return;
    const where = `${options.path}:${index + 1}`;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      if (index === last) {
        options.logger.warn('skipping the journal’s last line: it was cut short (the process stopped while writing it)', { path: options.path, line: index + 1, bytes: line.length });
        return;
      }
      throw new Error(`${where}: not a JSON line; the journal is damaged (restore it from a backup, or remove the line to drop that entry)`);
    }
    if (index === 0) {
      checkHeader(entry, options, where);
      return;
    }
    try {
      state.replay(entry);
    } catch (error) {
      throw new Error(`${where}: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
}

function checkHeader(entry: unknown, options: JournalFileOptions, where: string): void {
  const header = entry as { journal?: unknown; v?: unknown } | null;
  if (header?.journal !== options.kind || header.v !== JOURNAL_VERSION) {
    throw new Error(`${where}: not a dosrouter ${options.kind} journal of version ${JOURNAL_VERSION} (first line ${JSON.stringify(entry)}); refusing to overwrite it`);
  }
}

/** Writes a header and the entries to `<path>.tmp`, fsyncs it, renames it over `path` and fsyncs the directory. Returns its size. */
async function rewrite(options: JournalFileOptions, entries: readonly object[]): Promise<number> {
  const temporary = `${options.path}.tmp`;
  const file = await open(temporary, 'w', 0o600);
  let size = 0;
  try {
    let batch: string[] = [`${JSON.stringify({ journal: options.kind, v: JOURNAL_VERSION })}\n`];
    const writeBatch = async (): Promise<void> => {
      const buffer = Buffer.from(batch.join(''), 'utf8');
      batch = [];
      for (let offset = 0; offset < buffer.length; ) offset += (await file.write(buffer, offset)).bytesWritten;
      size += buffer.length;
    };
    for (const entry of entries) {
      batch.push(`${JSON.stringify(entry)}\n`);
      if (batch.length >= 1_000) await writeBatch();
    }
    await writeBatch();
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, options.path);
  const directory = await open(dirname(options.path), 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
  return size;
}
