import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { temporaryDirectory } from '../test-support/temporary-storage.js';
import { LOCK_FILE, lockDataDir } from './data-dir-lock.js';

describe('lockDataDir', () => {
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>;
  beforeEach(async () => {
    directory = await temporaryDirectory();
  });
  afterEach(() => directory.remove());

  it('refuses a directory another live process holds, naming it', async () => {
    // The test runner's parent process is alive and is not this one.
    await writeFile(join(directory.path, LOCK_FILE), `${process.ppid}\n`);
    await expect(lockDataDir(directory.path)).rejects.toThrow(`in use by process ${process.ppid}`);
  });

  it('takes over a lock left by a process that is gone, and gives it back', async () => {
    await writeFile(join(directory.path, LOCK_FILE), '2147483646\n');
    const unlock = await lockDataDir(directory.path);
    expect(await readFile(join(directory.path, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    await expect(lockDataDir(directory.path, process.ppid)).rejects.toThrow(`in use by process ${process.pid}`);
    await unlock();
    const again = await lockDataDir(directory.path, process.ppid);
    await again();
  });
});
