import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const triggers = fileURLToPath(new URL('../../dist/config/reload-triggers.js', import.meta.url));

/**
 * A process whose reload triggers were stopped (it is draining) sends itself SIGHUP. A signal a process sends itself is
 * delivered before `kill` returns, so without a listener Node's default (end the process) would act before the next line.
 */
const script = `
const { startReloadTriggers } = await import(${JSON.stringify(triggers)});
const logger = { info() {}, warn() {}, error() {}, debug() {} };
let reloads = 0;
const stop = startReloadTriggers({ path: '/nonexistent', settings: { watch: false, watchDebounceMs: 500 }, reload: () => { reloads += 1; }, logger });
stop();
process.kill(process.pid, 'SIGHUP');
setImmediate(() => { console.log(JSON.stringify({ alive: true, reloads })); });
`;

describe('reload triggers once stopped', () => {
  it('a SIGHUP while the process stops neither reloads nor ends it', async () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(JSON.parse(output.trim())).toEqual({ alive: true, reloads: 0 });
  });
});
