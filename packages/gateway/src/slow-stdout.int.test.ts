import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from './test-support/harness.js';
import { spawnRegistered } from '../../../scripts/cluster/process-registry.mjs';

const repository = fileURLToPath(new URL('../../../', import.meta.url));
const mainScript = join(repository, 'packages/gateway/dist/main.js');

/** Bytes read from the child's stdout so far; collected only while the test reads. */
function reader(child: ChildProcess): { text: () => string } {
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { text: () => text };
}

describe('the gateway process whose stdout is a pipe nobody drains for a while', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dosrouter-data-'));
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stays up and answering while the pipe is full, then writes every access line in order', async () => {
    child = spawnRegistered(process.execPath, [mainScript], {
      cwd: repository,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', REDIS_URL: '', DOSROUTER_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = reader(child);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let exited = false;
    child.once('exit', () => (exited = true));
    await eventually(() => out.text().includes('"gateway listening"') || exited, 30_000, 'the gateway listens');
    const listening = out.text().split('\n').find((line) => line.includes('"gateway listening"'));
    expect(listening, out.text()).toBeDefined();
    const url = (JSON.parse(listening!) as { url: string }).url;

    // Stop reading: the kernel pipe (64 KiB) and the stream's buffer fill, and write(2) on fd 1 meets EAGAIN.
    child.stdout!.pause();
    const before = out.text().length;
    const ask = async (index: number): Promise<number> => {
      const response = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': `slow-stdout-${index}` },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello!' }] }),
      });
      await response.arrayBuffer();
      return response.status;
    };
    const askOrSayWhy = (index: number): Promise<number> =>
      ask(index).catch((error: unknown) => {
        throw new Error(`request ${index} failed (gateway exited: ${exited}; stderr: ${stderr.slice(0, 2_000)})`, { cause: error });
      });
    // ~0.5 KB per access line: 1,200 lines are ~600 KB, far past the pipe and the reader's buffer.
    const total = 1_200;
    const statuses: number[] = [];
    for (let batch = 0; batch < total; batch += 20) {
      statuses.push(...(await Promise.all(Array.from({ length: 20 }, (_, offset) => askOrSayWhy(batch + offset)))));
      expect(exited).toBe(false);
    }
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(out.text().length).toBe(before);
    expect(child.exitCode).toBeNull();
    expect(await askOrSayWhy(total)).toBe(200);

    // Drain: every access line arrives, as JSON, in the order the requests finished.
    child.stdout!.resume();
    const ids = (): string[] =>
      out
        .text()
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as { message: string; requestId?: string })
        .filter((line) => line.message === 'request' && line.requestId?.startsWith('slow-stdout-'))
        .map((line) => line.requestId!);
    await eventually(() => out.text().endsWith('\n') && ids().length === total + 1, 30_000, 'every access line arrives');
    // Requests of one batch finish in any order; batches are sequential.
    const seen = ids().map((id) => Number(id.slice('slow-stdout-'.length)));
    for (let at = 20; at < total; at += 20) expect(Math.min(...seen.slice(at, at + 20))).toBeGreaterThan(Math.max(...seen.slice(at - 20, at)));
    expect(new Set(seen).size).toBe(total + 1);
    expect(child.exitCode).toBeNull();
  }, 120_000);
});
