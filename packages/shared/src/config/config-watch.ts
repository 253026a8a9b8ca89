import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface ConfigWatchOptions {
  /** The config file. */
  readonly path: string;
  /** Quiet time after the last change before `onChange` runs: an editor's save is several events. */
  readonly debounceMs: number;
  readonly onChange: () => void;
  /** A watcher that failed (the directory went away): reloading on SIGHUP still works. */
  readonly onError: (error: Error) => void;
}

/**
 * Calls `onChange` once after the config file changed and stayed quiet for `debounceMs`. It watches the file's
 * directory, not only the file: an editor that saves by writing a new file and renaming it over the old one, and a
 * Kubernetes ConfigMap volume, which swaps its `..data` symlink to a new directory, both leave a watch on the old file
 * watching nothing. Any event in the directory that names the file, `..data`, or nothing (some platforms) counts;
 * the reload reads the file again and compares revisions, so a spurious call costs a read and no more.
 * Returns a function that stops watching.
 */
export function watchConfigFile({ path, debounceMs, onChange, onError }: ConfigWatchOptions): () => void {
  const name = basename(path);
  let timer: NodeJS.Timeout | undefined;
  const changed = (): void => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
    timer.unref();
  };
  const watchers: FSWatcher[] = [];
  const add = (target: string, relevant: (file: string | null) => boolean): void => {
    try {
      const watcher = watch(target, { persistent: false }, (_event, file) => {
        if (relevant(file === null ? null : String(file))) changed();
      });
      watcher.on('error', onError);
      watchers.push(watcher);
    } catch (error) {
      onError(error as Error);
    }
  };
  add(dirname(path), (file) => file === null || file === name || file === '..data');
  // The file itself too, for file systems whose directory events leave out writes in place.
  add(path, () => true);
  return () => {
    clearTimeout(timer);
    for (const watcher of watchers) watcher.close();
  };
}
