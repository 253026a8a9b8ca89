import { ConfigError } from '../config/load.js';

/** The smallest valid config: one backend serving one model, `small`. Tests append to it. */
export const MINIMAL_CONFIG = `
backends:
  - name: local
    baseUrl: http://127.0.0.1:9000/v1
    models:
      - name: small
`;

/** The ConfigError that `run` throws; fails the test when it throws nothing or something else. */
export function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (caught) {
    if (caught instanceof ConfigError) return caught;
    throw new Error(`expected a ConfigError, got ${String(caught)}`);
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}
