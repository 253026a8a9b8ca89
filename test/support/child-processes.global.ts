import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REGISTRY_VARIABLE, sweepRegistry } from '../../scripts/cluster/process-registry.mjs';

/**
 * Around the whole test run: points DOSROUTER_PROCESS_REGISTRY at a fresh directory, where every process the tests
 * start (redis-server, nginx, gateways, probers, the simulator, scripts/cluster.mjs and its children) is registered
 * (scripts/cluster/process-registry.mjs). Each worker kills its own on the way out and a watchdog does when a worker
 * is killed outright; at the end, whatever is still alive is killed here and named, so the test that left it can be
 * found.
 */
export default function setup(): () => void {
  const directory = mkdtempSync(join(tmpdir(), 'dosrouter-test-processes-'));
  process.env[REGISTRY_VARIABLE] = directory;
  return () => {
    const killed = sweepRegistry(directory);
    rmSync(directory, { recursive: true, force: true });
    if (killed.length > 0) {
      process.stdout.write(`process sweep: killed ${killed.length} processes the tests left running: ${killed.map(({ pid, name }) => `${name} (${pid})`).join(', ')}\n`);
    }
  };
}
