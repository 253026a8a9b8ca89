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
  /** The SIGHUP hold the process took first thing: released here, a SIGHUP it caught replayed as one reload. */
  readonly held?: HeldReloadSignal;
}

export interface HeldReloadSignal {
  /** Stops holding; whether a SIGHUP arrived meanwhile. */
  release(): boolean;
}

/**
 * Taken first thing in a process's main: Node's default for SIGHUP ends the process, and the reload handler is only
 * installed once the process is up. Until then a SIGHUP is remembered instead; `startReloadTriggers` replays it.
 */
export function holdReloadSignal(): HeldReloadSignal {
  let pending = false;
  const onSignal = (): void => {
    pending = true;
  };
  process.on('SIGHUP', onSignal);
  return {
    release: () => {
      process.off('SIGHUP', onSignal);
      return pending;
    },
  };
}

/**
 * What makes a process reload its config: SIGHUP, always; and with `config.watch`, a change of the file (debounced).
 * Returns a function that stops both. With `held`, a SIGHUP that arrived during startup is replayed once.
 */
export function startReloadTriggers({ path, settings, reload, logger, held }: ReloadTriggersOptions): () => void {
  const onSignal = (): void => void reload('SIGHUP');
  process.on('SIGHUP', onSignal);
  // Released only now that the reload handler is on: no moment without a SIGHUP handler.
  if (held?.release() === true) {
    logger.info('SIGHUP during startup: reloading now');
    onSignal();
  }
  const stopWatching = settings.watch
    ? watchConfigFile({
        path,
        debounceMs: settings.watchDebounceMs,
        onChange: () => void reload('watch'),
        onError: (error) => logger.warn('config watch failed: reload with SIGHUP', { path, error: error.message }),
      })
    : undefined;
  return () => {
    // Stopping (a drain may last seconds): a SIGHUP now is ignored rather than ending the process (Node's default).
    ignoreSighupFromNowOn();
    process.off('SIGHUP', onSignal);
    stopWatching?.();
  };
}

let ignoringSighup = false;

/** One no-op SIGHUP listener for the rest of the process's life (once, however many gateways stop in it). */
function ignoreSighupFromNowOn(): void {
  if (ignoringSighup) return;
  ignoringSighup = true;
  process.on('SIGHUP', () => {});
}
