import { readFileSync, statSync } from 'node:fs';
import type { Server as HttpsServer } from 'node:https';
import type { Logger } from '@dosrouter/shared';

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** The certificate chain and private key, read from their files (PEM). Throws naming the file that cannot be read. */
export function readTlsPair(files: TlsFiles): { cert: Buffer; key: Buffer } {
  const read = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new Error(`server.tls: cannot read the ${what} ${path}: ${(error as Error).message}`);
    }
  };
  return { cert: read(files.certFile, 'certificate'), key: read(files.keyFile, 'private key') };
}

/**
 * Picks up a renewed certificate without a restart: every `intervalMs` the files' modification times are compared,
 * and on a change the pair is read and installed for new connections (connections already open keep theirs). Polling,
 * not fs.watch: renewals replace files by rename or swap symlinks (cert-manager, certbot), which watchers miss. A pair
 * that fails to load (a half-written file, a key that does not match) is logged and the old one kept; the next poll
 * tries again. Returns a function that stops it.
 */
export function reloadTlsOnChange(server: HttpsServer, files: TlsFiles, intervalMs: number, logger: Logger): () => void {
  const stamp = (): string => {
    try {
      return `${statSync(files.certFile).mtimeMs}:${statSync(files.keyFile).mtimeMs}`;
    } catch {
      return 'unreadable';
    }
  };
  let last = stamp();
  const timer = setInterval(() => {
    const now = stamp();
    if (now === last || now === 'unreadable') return;
    try {
      server.setSecureContext(readTlsPair(files));
      last = now;
      logger.info('TLS certificate reloaded', { certFile: files.certFile });
    } catch (error) {
      logger.warn('TLS certificate not reloaded; keeping the current one', { certFile: files.certFile, error: (error as Error).message });
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
