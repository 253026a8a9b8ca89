import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** The lock file's name inside a data directory: it holds the owning process's pid. */
export const LOCK_FILE = 'dosrouter.lock';

/**
 * Takes a data directory for this process, so that two gateways never append to (and rewrite) the same journals.
 * A lock left by a process that is gone (or by an earlier life of this pid, as in a restarted container) is taken
 * over. Throws naming the other process when it is alive. Resolves to the function that gives the lock back.
 */
export async function lockDataDir(directory: string, pid = process.pid): Promise<() => Promise<void>> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const path = join(directory, LOCK_FILE);
  for (let attempt = 0; ; attempt += 1) {
    try {
      const file = await open(path, 'wx', 0o600);
      try {
        await file.writeFile(`${pid}\n`);
      } finally {
        await file.close();
      }
      return async () => {
        await unlink(path).catch(() => undefined);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
    }
    const owner = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(owner) && owner > 0 && owner !== pid && isAlive(owner)) {
      throw new Error(`the data directory ${directory} is in use by process ${owner} (${path}); stop that gateway, or give this one its own storage.dataDir`);
    }
    await unlink(path).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
