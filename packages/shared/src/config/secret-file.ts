import { readFileSync } from 'node:fs';

/**
 * A secret kept in a file (a Docker or Kubernetes secret): its text without the trailing newline(s) an editor or
 * `echo` leaves. A relative path is taken from the working directory. Throws the file system's error.
 */
export function readSecretFile(path: string): string {
  return readFileSync(path, 'utf8').replace(/[\r\n]+$/, '');
}
