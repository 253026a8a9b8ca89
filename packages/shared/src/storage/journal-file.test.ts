import { execFile } from 'node:child_process';
import { appendFile, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from '../test-support/eventually.js';
import { recordingLogger, temporaryDirectory } from '../test-support/temporary-storage.js';
import { JournalFile, type JournalFileOptions, type JournalState } from './journal-file.js';

/** A store of name → value whose journal lines are `{ set, value }`, its snapshot the same lines. */
class Table implements JournalState {
  readonly values = new Map<string, number>();
  replay(entry: unknown): void {
    const line = entry as { set?: unknown; value?: unknown };
    if (typeof line.set !== 'string' || typeof line.value !== 'number') throw new Error('not a table entry');
    this.values.set(line.set, line.value);
  }
  *snapshot(): Iterable<object> {
    for (const [set, value] of this.values) yield { set, value };
  }
  set(journal: JournalFile, name: string, value: number): void {
    this.values.set(name, value);
    journal.append({ set: name, value });
  }
}

describe('JournalFile', () => {
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>;
  let path: string;
  let recording: ReturnType<typeof recordingLogger>;
  const opened: JournalFile[] = [];
  const open = async (table: Table, options: Partial<JournalFileOptions> = {}): Promise<JournalFile> => {
    const journal = await JournalFile.open({ path, kind: 'table', logger: recording.logger, ...options }, table);
    opened.push(journal);
    return journal;
  };
  const lines = async (): Promise<string[]> => (await readFile(path, 'utf8')).split('\n').filter((line) => line !== '');

  beforeEach(async () => {
    directory = await temporaryDirectory();
    path = join(directory.path, 'nested', 'table.jsonl');
    recording = recordingLogger();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((journal) => journal.close()));
    await directory.remove();
  });

  it('starts a new journal with its header, and gives back at the next open what was appended', async () => {
    const table = new Table();
    const journal = await open(table);
    expect(await lines()).toEqual(['{"journal":"table","v":1}']);
    table.set(journal, 'a', 1);
    table.set(journal, 'b', 2);
    table.set(journal, 'a', 3);
    await journal.close();
    const reopened = new Table();
    await open(reopened);
    expect([...reopened.values]).toEqual([
      ['a', 3],
      ['b', 2],
    ]);
  });

  it('writes appended lines to the file without sync, within writeDelayMs', async () => {
    const table = new Table();
    const journal = await open(table);
    table.set(journal, 'a', 1);
    await eventually(async () => (await lines()).includes('{"set":"a","value":1}'));
  });

  it('holds appended lines for writeDelayMs, so that one write carries them all; sync writes them at once', async () => {
    const table = new Table();
    const journal = await open(table, { writeDelayMs: 60_000 });
    table.set(journal, 'a', 1);
    for (let turn = 0; turn < 5; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    table.set(journal, 'b', 2);
    expect(await lines()).toEqual(['{"journal":"table","v":1}']);
    await journal.sync();
    expect(await lines()).toEqual(['{"journal":"table","v":1}', '{"set":"a","value":1}', '{"set":"b","value":2}']);
  });

  it('writes on the next turn of the event loop with writeDelayMs 0', async () => {
    const table = new Table();
    const journal = await open(table, { writeDelayMs: 0 });
    table.set(journal, 'a', 1);
    await eventually(async () => (await lines()).includes('{"set":"a","value":1}'));
  });

  it('writes lines appended while a write is under way in the next one, in order, without sync', async () => {
    const table = new Table();
    const journal = await open(table, { writeDelayMs: 0 });
    // Appends over several turns: those that come while the first write is in the thread pool wait for it.
    for (let turn = 0; turn < 20; turn += 1) {
      for (let entry = 0; entry < 5; entry += 1) table.set(journal, `k${turn}-${entry}`, turn * 5 + entry);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const expected = Array.from({ length: 100 }, (_, index) => `{"set":"k${Math.floor(index / 5)}-${index % 5}","value":${index}}`);
    await eventually(async () => (await lines()).length === expected.length + 1);
    expect((await lines()).slice(1)).toEqual(expected);
  });

  it('writes lines appended during the write that recovers from a failure, without another append', async () => {
    const table = new Table();
    const journal = await open(table, { writeDelayMs: 0, retryMs: 10 });
    // The file's handle refuses the first write (as a full disk would); the retry's write succeeds, and while it is
    // under way (still failing, as far as the journal knows) another line is appended.
    const handle = (journal as unknown as { handle: { write: (...args: unknown[]) => Promise<unknown> } }).handle;
    const write = handle.write.bind(handle);
    let calls = 0;
    handle.write = (...args: unknown[]) => {
      calls += 1;
      if (calls === 1) return Promise.reject(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
      if (calls === 2) table.set(journal, 'b', 2);
      return write(...args);
    };
    table.set(journal, 'a', 1);
    await eventually(async () => (await lines()).includes('{"set":"a","value":1}'));
    expect(recording.lines.map((line) => line.message)).toEqual(['cannot write the journal: its entries are kept in memory and retried']);
    await eventually(async () => (await lines()).includes('{"set":"b","value":2}'), 1_000, 'the line appended during the recovering write in the file');
    expect(await lines()).toEqual(['{"journal":"table","v":1}', '{"set":"a","value":1}', '{"set":"b","value":2}']);
  });

  it('rewrites the journal as a snapshot at open, so that a replayed history shrinks to the state', async () => {
    const table = new Table();
    const journal = await open(table);
    for (let value = 0; value < 50; value += 1) table.set(journal, 'a', value);
    await journal.sync();
    expect(await lines()).toHaveLength(51);
    await journal.close();
    await open(new Table());
    expect(await lines()).toEqual(['{"journal":"table","v":1}', '{"set":"a","value":49}']);
  });

  it('skips a last line cut short by a crash, with a warning, and starts', async () => {
    const table = new Table();
    const journal = await open(table);
    table.set(journal, 'a', 1);
    await journal.close();
    await appendFile(path, '{"set":"b","val');
    const reopened = new Table();
    await open(reopened);
    expect([...reopened.values]).toEqual([['a', 1]]);
    await eventually(() => recording.lines.some((line) => line.level === 'warn' && String(line.message).includes('cut short') && line.line === 3));
    // The rewrite at open removed the torn line: appending after it leaves a readable journal.
    expect(await lines()).toEqual(['{"journal":"table","v":1}', '{"set":"a","value":1}']);
  });

  it('refuses to open a journal with a damaged line before its last, naming the line', async () => {
    await open(new Table()).then((journal) => journal.close());
    await appendFile(path, '{"set":"a","value":1}\n{"set":"b",\n{"set":"c","value":3}\n');
    await expect(open(new Table())).rejects.toThrow(`${path}:3: not a JSON line`);
    // Nothing was rewritten: the damaged journal is left for its owner to repair.
    expect(await lines()).toHaveLength(4);
  });

  it('refuses an entry the store does not know, and a file of another kind or version', async () => {
    await open(new Table()).then((journal) => journal.close());
    await appendFile(path, '{"other":true}\n');
    await expect(open(new Table())).rejects.toThrow(`${path}:2: not a table entry`);
    await writeFile(path, '{"journal":"keys","v":1}\n');
    await expect(open(new Table())).rejects.toThrow('not a dosrouter table journal of version 1');
    await writeFile(path, '{"journal":"table","v":2}\n');
    await expect(open(new Table())).rejects.toThrow('not a dosrouter table journal of version 1');
  });

  it('rewrites itself once it has grown past the threshold and twice its last size, keeping every value', async () => {
    const table = new Table();
    const journal = await open(table, { compactMinBytes: 2_000 });
    for (let value = 0; value < 400; value += 1) {
      table.set(journal, `name-${value % 10}`, value);
      if (value % 50 === 49) await journal.sync();
    }
    await journal.sync();
    // ~27 bytes a line: 400 lines would be ~11 KB; rewrites keep it near 10 lines plus what came since.
    expect((await stat(path)).size).toBeLessThan(4_000);
    expect(await readdir(join(directory.path, 'nested'))).toEqual(['table.jsonl']);
    await journal.close();
    const reopened = new Table();
    await open(reopened);
    expect(reopened.values).toEqual(table.values);
  });

  it('refuses appends once closed', async () => {
    const journal = await open(new Table());
    await journal.close();
    expect(() => journal.append({ set: 'b', value: 2 })).toThrow('is closed');
  });

  it('cuts a failed write back to whole lines, logs once, rejects sync, and closes logging what was lost', async () => {
    // A child process (the built package) whose files may not grow past 64 KiB: the second write fails with EFBIG
    // after part of it reached the file. writeDelayMs 0: the append's own write fails (and is logged) on the next
    // turn, before the sync's rejection is printed.
    const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
    const script = `
      process.on('SIGXFSZ', () => {});
      const { JournalFile, createLogger } = await import(process.argv[1]);
      const logger = createLogger({ level: 'info', service: 'test' });
      const journal = await JournalFile.open({ path: process.argv[2], kind: 'table', logger, retryMs: 20, writeDelayMs: 0 }, { replay() {}, snapshot: () => [] });
      journal.append({ set: 'small', value: 1 });
      await journal.sync();
      journal.append({ set: 'big', value: 'x'.repeat(200000) });
      const result = await journal.sync().then(() => 'synced', (error) => 'rejected ' + error.code);
      console.log(JSON.stringify({ message: 'sync', result }));
      await new Promise((resolve) => setTimeout(resolve, 200));
      await journal.close();`;
    const { stdout } = await promisify(execFile)('bash', ['-c', 'ulimit -f 64 && exec "$0" --input-type=module -e "$1" "$2" "$3"', process.execPath, script, dist, path]);
    const logged = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged.map((line) => line.message)).toEqual([
      'cannot write the journal: its entries are kept in memory and retried',
      'sync',
      'cannot write the journal at close: its last entries are lost',
    ]);
    expect(logged[1]).toMatchObject({ result: 'rejected EFBIG' });
    expect(logged[2]).toMatchObject({ lostEntries: 1 });
    expect(await lines()).toEqual(['{"journal":"table","v":1}', '{"set":"small","value":1}']);
  });
});
