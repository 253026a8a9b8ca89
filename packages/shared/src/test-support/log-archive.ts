import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The test run's log archive: while `DOSROUTER_LOG_ARCHIVE` names a directory (test/support/log-scan.global.ts sets
 * it for every run), a copy of every log line the tests' gateways and probers write lands there, with the secrets the
 * tests handed out; after the run every line is scanned for every secret. Outside a test run these do nothing.
 */
const archive = (): string | undefined => process.env.DOSROUTER_LOG_ARCHIVE || undefined;

/** Appends log text from `source` (a name for the file) to the archive. */
export function archiveLog(source: string, text: string): void {
  const directory = archive();
  if (directory) appendFileSync(join(directory, `${source}-${process.pid}.log`), text.endsWith('\n') ? text : `${text}\n`);
}

/** Names a secret a test gave a gateway, a backend or a client: no log line may contain it. */
export function recordTestSecret(secret: string): void {
  const directory = archive();
  if (directory) appendFileSync(join(directory, `secrets-${process.pid}.txt`), `${secret}\n`);
}
