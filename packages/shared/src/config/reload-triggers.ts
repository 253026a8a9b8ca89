import type { Logger } from '../logger/logger.js';
import type { ReloadTrigger } from './config-reloads.js';
import { watchConfigFile } from './config-watch.js';
import type { GatewayConfig } from './schema.js';

export interface ReloadTriggersOptions {
  /** The config file the process started from. */
  readonly path: string;
  /** `config.watch` and `config.watchDebounceMs` as the process started (changing them needs a restart). */
  readonly settings: GatewayConfig['config'];
  readonly reload: (trigger: ReloadTrigger) => unknown;
  readonly logger: Logger;
}

/**
 * What makes a process reload its config: SIGHUP, always; and with `config.watch`, a change of the file (debounced).
 * Returns a function that stops both.
 */
export function startReloadTriggers({ path, settings, reload, logger }: ReloadTriggersOptions): () => void {
  const onSignal = (): void => void reload('SIGHUP');
  process.on('SIGHUP', onSignal);
  const stopWatching = settings.watch
    ? watchConfigFile({
        path,
        debounceMs: settings.watchDebounceMs,
        onChange: () => void reload('watch'),
        onError: (error) => logger.warn('config watch failed: reload with SIGHUP', { path, error: error.message }),
      })
    : undefined;
  return () => {
    process.off('SIGHUP', onSignal);
    stopWatching?.();
  };
}
