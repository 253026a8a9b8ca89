import { execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'vitest';
import { eventually } from './eventually.js';

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

/** A spawned process's JSON log lines as they come, and the `url` of its line with `message` (its "listening"). */
export function logLines(child: ChildProcess, message: string): { readonly lines: Record<string, unknown>[]; readonly listening: Promise<string> } {
  const lines: Record<string, unknown>[] = [];
  const listening = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      lines.push(entry);
      if (entry.message === message) resolve(entry.url as string);
    });
    child.once('exit', (code, signal) => reject(new Error(`process exited with ${code ?? signal}`)));
  });
  return { lines, listening };
}

/**
 * A process started on `config` (held), sent SIGHUP as soon as it has a handler and before it can listen: it must
 * come up, log the held reload, stay up and answer /healthz. Stops the process and removes the config after.
 */
export async function expectSighupWhileStartingSurvived(
  child: ChildProcess,
  output: ReturnType<typeof logLines>,
  config: ReturnType<typeof heldConfigFile>,
): Promise<void> {
  output.listening.catch(() => undefined);
  try {
    await eventually(() => child.pid !== undefined && catchesSighup(child.pid), 20_000, 'a SIGHUP handler installed');
    child.kill('SIGHUP');
    await config.release();
    const url = await output.listening;
    const reloaded = (line: Record<string, unknown>): boolean =>
      (line.message === 'config reload: nothing to change' || line.message === 'config reloaded') && line.trigger === 'SIGHUP';
    await eventually(() => output.lines.some(reloaded), 20_000, 'the held reload');
    expect(output.lines.map((line) => line.message)).toContain('SIGHUP during startup: reloading now');
    expect(child.exitCode).toBeNull();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    config.remove();
  }
}
