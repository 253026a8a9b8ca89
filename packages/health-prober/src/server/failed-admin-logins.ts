import type { Logger } from '@dosrouter/shared';

/** How long repeated admin login failures are counted before one line sums them up (default 60 s). */
export const FAILED_LOGIN_SUMMARY_MS = 60_000;
/** At most this many distinct source addresses and routes are named in a summary line. */
const SAMPLE_SIZE = 10;

/**
 * Logs failed admin logins without letting a client fill the log: the first failure is logged on its own, the next
 * ones are counted, and at the end of each interval one line gives their number with a sample of source addresses
 * and routes. After an interval without failures the next one is logged on its own again. (A timing attack sent
 * 6,214 wrong keys in one run: that was 6,214 warnings.)
 */
export class FailedAdminLogins {
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private readonly addresses = new Set<string>();
  private readonly routes = new Set<string>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = FAILED_LOGIN_SUMMARY_MS,
  ) {}

  record(route: string, remoteAddress: string | undefined): void {
    if (this.timer === undefined) {
      this.logger.warn('admin authentication failed', { route, remoteAddress });
      this.startInterval();
      return;
    }
    this.failures += 1;
    if (this.addresses.size < SAMPLE_SIZE) this.addresses.add(remoteAddress ?? 'unknown');
    if (this.routes.size < SAMPLE_SIZE) this.routes.add(route);
  }

  private startInterval(): void {
    // Unreferenced: a pending summary never keeps a stopping process alive.
    this.timer = setTimeout(() => this.summarize(), this.intervalMs).unref();
  }

  private summarize(): void {
    this.timer = undefined;
    if (this.failures === 0) return;
    this.logger.warn('admin authentication failed repeatedly', {
      failures: this.failures,
      intervalMs: this.intervalMs,
      remoteAddresses: [...this.addresses],
      routes: [...this.routes],
    });
    this.failures = 0;
    this.addresses.clear();
    this.routes.clear();
    this.startInterval();
  }
}

/** One per logger: the gateway guards several routes with the admin key, and their failures are counted together. */
const byLogger = new WeakMap<Logger, FailedAdminLogins>();

export function failedAdminLoginsOf(logger: Logger): FailedAdminLogins {
  let failed = byLogger.get(logger);
  if (!failed) {
    failed = new FailedAdminLogins(logger);
    byLogger.set(logger, failed);
  }
  return failed;
}
