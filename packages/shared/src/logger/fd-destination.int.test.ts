import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnRegistered } from '../../../../scripts/cluster/process-registry.mjs';
import { eventually } from '../test-support/eventually.js';
import { FdDestination } from './fd-destination.js';

/**
 * A reader process on the other end of a real pipe: it reads nothing until SIGUSR2, then copies its stdin to its
 * stdout. The pipe's write end here is libuv's, hence non-blocking: once 64 KiB wait in it, write(2) says EAGAIN.
 */
function startReader(): { child: ChildProcess; fd: number; text: () => string } {
  const script = "process.on('SIGUSR2', () => process.stdin.pipe(process.stdout)); process.stdout.write('ready\\n'); setInterval(() => {}, 60_000);";
  const child = spawnRegistered(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const fd = (child.stdin as unknown as { _handle: { fd: number } })._handle.fd;
  return { child, fd, text: () => text };
}

const line = (index: number): string => `${JSON.stringify({ index, padding: 'x'.repeat(200) })}\n`;

/** Writes lines in batches, a turn of the event loop apart, until a write has met a full pipe; returns how many. */
async function writeUntilFull(destination: FdDestination, batches = 2_000): Promise<number> {
  let written = 0;
  for (let batch = 0; batch < batches && destination.fullRetries === 0; batch++) {
    for (let index = 0; index < 100; index++) destination.write(line(written++));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  expect(destination.fullRetries).toBeGreaterThan(0);
  return written;
}

describe('FdDestination on a non-blocking pipe', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  });

  it('keeps every line, in order, while the reader stalls, and finishes once they are written', async () => {
    const reader = startReader();
    children.push(reader.child);
    await eventually(() => reader.text() === 'ready\n', 10_000, 'the reader starts');
    const destination = new FdDestination({ fd: reader.fd, service: 'test' });
    const errors: unknown[] = [];
    destination.on('error', (error) => errors.push(error));
    const total = await writeUntilFull(destination);
    let finished = false;
    destination.end(() => (finished = true));
    expect(finished).toBe(false);
    reader.child.kill('SIGUSR2');
    await eventually(() => finished, 20_000, 'the destination finishes');
    await eventually(() => reader.text().split('\n').length === total + 2, 20_000, 'every line arrives');
    const indexes = reader.text().split('\n').slice(1, -1).map((text) => (JSON.parse(text) as { index: number }).index);
    expect(indexes).toEqual(Array.from({ length: total }, (_, index) => index));
    expect(destination.droppedLines).toBe(0);
    expect(errors).toEqual([]);
  });

  it('past its bound drops lines, counts them and says so once writing recovers', async () => {
    const reader = startReader();
    children.push(reader.child);
    await eventually(() => reader.text() === 'ready\n', 10_000, 'the reader starts');
    const destination = new FdDestination({ fd: reader.fd, service: 'test', maxQueuedBytes: 32 * 1024 });
    const total = await writeUntilFull(destination);
    // The pipe is full and 32 KB wait: a few more lines cannot be queued.
    for (let index = 0; index < 200; index++) destination.write(line(total + index));
    expect(destination.droppedLines).toBeGreaterThan(0);
    reader.child.kill('SIGUSR2');
    await new Promise<void>((resolve) => destination.end(resolve));
    const dropped = destination.droppedLines;
    type Entry = { index?: number; message?: string; droppedLines?: number };
    const entries = (): Entry[] => reader.text().split('\n').slice(1, -1).map((text) => JSON.parse(text) as Entry);
    const reported = (): number => entries().reduce((sum, entry) => sum + (entry.message === 'log lines dropped' ? entry.droppedLines! : 0), 0);
    // One report per recovery (a write that succeeds after drops); together they count every dropped line.
    const indexes = (): number[] => entries().flatMap((entry) => (entry.index === undefined ? [] : [entry.index]));
    await eventually(() => reported() === dropped && indexes().length + dropped === total + 200, 20_000, 'every line arrives and every drop is reported');
    expect(indexes()).toEqual([...indexes()].sort((a, b) => a - b));
  });

  it('drops what a failing descriptor refuses, without an error, and still finishes', async () => {
    const fd = openSync('/dev/null', 'r'); // writing it fails with EBADF
    try {
      const destination = new FdDestination({ fd, service: 'test' });
      const errors: unknown[] = [];
      destination.on('error', (error) => errors.push(error));
      for (let index = 0; index < 10; index++) destination.write(line(index));
      await new Promise<void>((resolve) => destination.end(resolve));
      expect(destination.droppedLines).toBeGreaterThanOrEqual(10);
      expect(errors).toEqual([]);
    } finally {
      closeSync(fd);
    }
  });
});
