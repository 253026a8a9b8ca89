import { write } from 'node:fs';
import { Writable } from 'node:stream';

export interface FdDestinationOptions {
  /** The file descriptor written to; defaults to 1 (stdout). Never closed. */
  fd?: number;
  /** Process component named in the "log lines dropped" line. */
  service: string;
  /** Bytes waiting to be written past which new lines are dropped (and counted) instead of queued. */
  maxQueuedBytes?: number;
}

/** Backoff while the descriptor is full (EAGAIN) or failing: doubles from the first figure up to the second. */
const FIRST_RETRY_MS = 2;
const LAST_RETRY_MS = 250;
const DEFAULT_MAX_QUEUED_BYTES = 8 * 1024 * 1024;
/** Queued chunks are merged up to this size, so that a backlog is written in few system calls. */
const MERGE_BYTES = 64 * 1024;

/**
 * A Writable over a file descriptor (stdout) whose writes run on libuv's thread pool (fs.write), so the event loop
 * never waits on them, and which never emits 'error' nor crashes the process: when fd 1 is a non-blocking pipe
 * that the reader drains slowly, write(2) fails with EAGAIN and the bytes are retried after a short backoff, in
 * order; a partial write goes on with the rest; any other error drops the chunk it concerned. Past
 * `maxQueuedBytes` waiting, new lines are dropped and counted, and one "log lines dropped" line says how many
 * once writing recovers. Chunks are expected to be whole lines (the logger and the access log write such).
 * `end()` finishes once everything queued has been written (flushLogger relies on it).
 */
export class FdDestination extends Writable {
  private readonly fd: number;
  private readonly service: string;
  private readonly maxQueuedBytes: number;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private writing = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = FIRST_RETRY_MS;
  private unreportedDrops = 0;
  private lastError: string | undefined;
  private finalCallback: (() => void) | undefined;
  /** Lines dropped since the start (a full queue or a failed write). */
  droppedLines = 0;
  /** Writes retried after EAGAIN since the start: the reader was slower than the writer. */
  fullRetries = 0;

  constructor(options: FdDestinationOptions) {
    super({ decodeStrings: true });
    this.fd = options.fd ?? 1;
    this.service = options.service;
    this.maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.queuedBytes + chunk.length > this.maxQueuedBytes) this.drop(chunk);
    else {
      this.queue.push(chunk);
      this.queuedBytes += chunk.length;
      this.pump();
    }
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.finalCallback = () => callback();
    this.pump();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    callback(error);
  }

  private drop(chunk: Buffer): void {
    let lines = 0;
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++;
    lines = Math.max(lines, 1);
    this.droppedLines += lines;
    this.unreportedDrops += lines;
  }

  private pump(): void {
    if (this.writing || this.retryTimer) return;
    const first = this.queue[0];
    if (!first) {
      const finished = this.finalCallback;
      this.finalCallback = undefined;
      finished?.();
      return;
    }
    let buffer = first;
    if (this.queue.length > 1 && first.length < MERGE_BYTES) {
      let count = 1;
      let size = first.length;
      while (count < this.queue.length && size < MERGE_BYTES) size += this.queue[count++]!.length;
      buffer = Buffer.concat(this.queue.slice(0, count), size);
      this.queue.splice(0, count, buffer);
    }
    this.writing = true;
    write(this.fd, buffer, 0, buffer.length, null, (error, written) => {
      this.writing = false;
      if (this.destroyed) return;
      if (error) {
        if (error.code === 'EAGAIN' || error.code === 'EWOULDBLOCK' || error.code === 'EINTR') this.fullRetries++;
        else {
          // A failure that retrying the same bytes would not cure (EPIPE, EBADF, EIO…): drop them, keep going.
          this.queue.shift();
          this.queuedBytes -= buffer.length;
          this.drop(buffer);
          this.lastError = error.code ?? error.message;
        }
        this.retryLater();
        return;
      }
      this.retryMs = FIRST_RETRY_MS;
      this.queuedBytes -= written;
      if (written < buffer.length) this.queue[0] = buffer.subarray(written);
      else {
        this.queue.shift();
        // At a line boundary again: say how many lines were lost meanwhile, once.
        if (this.unreportedDrops > 0) this.reportDrops();
      }
      this.pump();
    });
  }

  private retryLater(): void {
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.pump();
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, LAST_RETRY_MS);
  }

  private reportDrops(): void {
    const line = Buffer.from(
      `${JSON.stringify({
        timestamp: new Date().toISOString(),
        level: 'warn',
        service: this.service,
        message: 'log lines dropped',
        droppedLines: this.unreportedDrops,
        totalDroppedLines: this.droppedLines,
        error: this.lastError,
      })}\n`,
    );
    this.unreportedDrops = 0;
    this.lastError = undefined;
    this.queue.unshift(line);
    this.queuedBytes += line.length;
  }
}
