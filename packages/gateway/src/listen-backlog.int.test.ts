import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './test-support/harness.js';

const run = promisify(execFile);

/** The accept queue of the socket listening on `port`, as the kernel reports it (`ss`: Send-Q of a listener). */
async function listenBacklogOf(port: number): Promise<number> {
  const { stdout } = await run('ss', ['-ltnH', `sport = :${port}`]);
  const columns = stdout.trim().split(/\s+/);
  return Number(columns[2]);
}

const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));

describe('the listening socket', () => {
  let harness: Harness | undefined;
  afterEach(async () => harness?.close());

  it('queues server.listenBacklog connections (4096 by default, as far as the kernel allows), not Node’s 511', async () => {
    harness = await startHarness({ models: [{ id: 'm' }] });
    expect(await listenBacklogOf(harness.gateway.port)).toBe(Math.min(4_096, somaxconn));
  });

  it('takes the configured backlog', async () => {
    harness = await startHarness({ models: [{ id: 'm' }], configure: (config) => (config.server = { listenBacklog: 100 }) });
    expect(await listenBacklogOf(harness.gateway.port)).toBe(100);
  });
});
