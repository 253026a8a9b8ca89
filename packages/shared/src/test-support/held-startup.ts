import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A config "file" that is a named pipe: a process started on it stays in its startup, blocked reading its config,
 * for as long as a test needs, with no sleep. `release` puts a regular file with `text` in its place (what a reload
 * reads later) and lets the process read `text` through the pipe.
 */
export function heldConfigFile(text: string): { readonly path: string; release(): Promise<void>; remove(): void } {
  const directory = mkdtempSync(join(tmpdir(), 'dosrouter-held-config-'));
  const path = join(directory, 'config.yaml');
  execFileSync('mkfifo', [path]);
  return {
    path,
    release: async () => {
      // Opening the pipe for writing waits for the reader, already blocked in its open: then the path can change.
      const pipe = await open(path, 'w');
      writeFileSync(`${path}.next`, text);
      renameSync(`${path}.next`, path);
      await pipe.writeFile(text);
      await pipe.close();
    },
    remove: () => rmSync(directory, { recursive: true, force: true }),
  };
}

/** Whether a (Linux) process has a handler for SIGHUP installed, from its /proc status (SigCgt, bit 0). */
export function catchesSighup(pid: number): boolean {
  const caught = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return caught !== undefined && (BigInt(`0x${caught}`) & 1n) === 1n;
}
