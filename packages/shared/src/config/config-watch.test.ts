import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../test-support/eventually.js';
import { watchConfigFile } from './config-watch.js';

describe('watchConfigFile', () => {
  let directory: string;
  let stop: (() => void) | undefined;
  afterEach(() => {
    stop?.();
    rmSync(directory, { recursive: true, force: true });
  });

  const watching = (path: string) => {
    const calls = { changes: 0, errors: [] as Error[] };
    stop = watchConfigFile({ path, debounceMs: 50, onChange: () => (calls.changes += 1), onError: (error) => calls.errors.push(error) });
    return calls;
  };

  it('sees an editor’s save (a new file renamed over the old one), once for a burst of events', async () => {
    directory = mkdtempSync(join(tmpdir(), 'dosrouter-watch-'));
    const path = join(directory, 'gateway.yaml');
    writeFileSync(path, 'a: 1\n');
    const calls = watching(path);
    writeFileSync(`${path}.swp`, 'a: 2\n');
    renameSync(`${path}.swp`, path);
    await eventually(() => calls.changes === 1, 5_000, 'one change');
    expect(calls.errors).toEqual([]);
    // After the rename the directory is still watched: a second save is seen too.
    writeFileSync(`${path}.swp`, 'a: 3\n');
    renameSync(`${path}.swp`, path);
    await eventually(() => calls.changes === 2, 5_000, 'a second change');
  });

  it('sees a Kubernetes ConfigMap update: the ..data symlink swapped to a new directory', async () => {
    directory = mkdtempSync(join(tmpdir(), 'dosrouter-configmap-'));
    // The layout kubelet writes: gateway.yaml → ..data/gateway.yaml, ..data → ..<timestamp>/.
    mkdirSync(join(directory, '..2026_12_06_01'));
    writeFileSync(join(directory, '..2026_12_06_01', 'gateway.yaml'), 'a: 1\n');
    symlinkSync('..2026_12_06_01', join(directory, '..data'));
    symlinkSync(join('..data', 'gateway.yaml'), join(directory, 'gateway.yaml'));
    const calls = watching(join(directory, 'gateway.yaml'));
    mkdirSync(join(directory, '..2026_12_06_02'));
    writeFileSync(join(directory, '..2026_12_06_02', 'gateway.yaml'), 'a: 2\n');
    symlinkSync('..2026_12_06_02', join(directory, '..data_tmp'));
    renameSync(join(directory, '..data_tmp'), join(directory, '..data'));
    await eventually(() => calls.changes === 1, 5_000, 'the ConfigMap change');
  });
});
