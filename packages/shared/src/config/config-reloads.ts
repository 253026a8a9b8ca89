import type { Logger } from '../logger/logger.js';
import type { ConfigReloadStatus, OwnReplicaInfo } from '../state/replica-info.js';
import { liveChanges } from './restart-only.js';
import { configRevision } from './revision.js';
import type { GatewayConfig } from './schema.js';

/** What started a reload, for the log. */
export type ReloadTrigger = 'SIGHUP' | 'watch' | 'call';

export interface ConfigReloadsOptions {
  /** Reads and validates the config as the process did at start (file, `${…}` interpolation, `*_FILE` secrets, environment overrides); throws when it is invalid. */
  readonly load: () => GatewayConfig;
  /** The config running now. */
  readonly running: () => GatewayConfig;
  /**
   * Puts a validated config (restart-only settings already kept as they run) into service, or throws, leaving the
   * running config as it was: building what the config describes may still fail (a strategy module, a simulator).
   */
  readonly apply: (config: GatewayConfig, revision: string) => Promise<void>;
  /** The process's info record: the revision and the last reload's outcome go there (dashboard, `/readyz/detail`). */
  readonly info: OwnReplicaInfo;
  /** Counts each outcome (`dosrouter_config_reloads_total`). */
  readonly onResult: (result: ConfigReloadStatus['result']) => void;
  readonly logger: Logger;
  readonly clock?: () => number;
}

/**
 * Config reloads, one at a time: the file is read and validated by the same loader as at start; an invalid one
 * leaves the running config in place (the error logged, counted and kept in the info record); a valid one is
 * applied, its restart-only settings kept as they run and named in the log. A reload asked for while one runs runs
 * once after it (several asks, one more reload).
 */
export class ConfigReloads {
  private running: Promise<ConfigReloadStatus> | undefined;
  private queued: Promise<ConfigReloadStatus> | undefined;

  constructor(private readonly options: ConfigReloadsOptions) {}

  reload(trigger: ReloadTrigger): Promise<ConfigReloadStatus> {
    if (this.running === undefined) {
      this.running = this.run(trigger).finally(() => (this.running = undefined));
      return this.running;
    }
    this.queued ??= this.running.then(() => {
      this.queued = undefined;
      return this.reload(trigger);
    });
    return this.queued;
  }

  private async run(trigger: ReloadTrigger): Promise<ConfigReloadStatus> {
    const { logger, info } = this.options;
    const at = (this.options.clock ?? Date.now)();
    let status: ConfigReloadStatus;
    try {
      const { config, ignored } = liveChanges(this.options.running(), this.options.load());
      if (ignored.length > 0) logger.warn('config reload: these settings change only at a restart; kept as they run', { trigger, settings: ignored });
      const revision = configRevision(config);
      if (revision === info.configRevision) {
        status = { at, result: 'unchanged' };
        logger.info('config reload: nothing to change', { trigger, revision });
      } else {
        await this.options.apply(config, revision);
        status = { at, result: 'applied' };
        logger.info('config reloaded', { trigger, from: info.configRevision, revision });
        info.reloaded(status, revision);
        this.options.onResult(status.result);
        return status;
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      status = { at, result: 'invalid', error: message };
      logger.error('config reload refused: the running config stays', { trigger, revision: info.configRevision, error: message });
    }
    info.reloaded(status);
    this.options.onResult(status.result);
    return status;
  }
}
