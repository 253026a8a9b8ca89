import { ConfigError } from './load.js';
import { readSecretFile } from './secret-file.js';

/**
 * The admin key, from DOSROUTER_ADMIN_KEY or from the file DOSROUTER_ADMIN_KEY_FILE names (a Docker or Kubernetes
 * secret; its trailing newline is dropped). Undefined when neither is set, or the value or file is empty: the admin
 * API is then off. Throws ConfigError naming the variable when both are set or the file cannot be read.
 */
export function adminKeyFromEnvironment(environment: NodeJS.ProcessEnv = process.env, readFile: (path: string) => string = readSecretFile): string | undefined {
  const value = environment.DOSROUTER_ADMIN_KEY || undefined;
  const file = environment.DOSROUTER_ADMIN_KEY_FILE || undefined;
  if (value !== undefined && file !== undefined) {
    throw new ConfigError('DOSROUTER_ADMIN_KEY and DOSROUTER_ADMIN_KEY_FILE are both set: set one of them');
  }
  if (file === undefined) return value;
  try {
    return readFile(file) || undefined;
  } catch (error) {
    throw new ConfigError(`DOSROUTER_ADMIN_KEY_FILE: cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
}
