// Instructions the gateway executes for N non-streaming requests, counted by valgrind (callgrind): a figure that does
// not depend on how busy the machine is. Starts the simulator (outside valgrind) and the gateway (embedded mode,
// access log on, NODE_ENV=production, as `pnpm bench` runs it) under callgrind, sends N requests from 4 concurrent
// loops, stops the gateway and prints callgrind's total for the whole run. Run it for two values of N: the
// difference divided by the difference of N is the cost of one request, start-up and shut-down cancelled out.
// After `pnpm run build`:
//   node scripts/bench/instructions.mjs 100 && node scripts/bench/instructions.mjs 600
// Slow: valgrind runs the gateway 20–50 times slower (minutes for a few hundred requests).
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_AUTHORIZATION, writeGatewayConfig, writeSimulatorConfig } from './configs.mjs';
import { benchEnvironment } from './processes.mjs';
import { requestBody } from './scenarios.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CONCURRENCY = 4;

/** Starts a Node server (optionally under a wrapper) and resolves with its URL once it logs one. */
function startServer(command, args, environment) {
  const child = spawn(command, args, { env: environment, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let output = '';
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code} before listening`)));
    child.stdout.on('data', function untilListening(chunk) {
      output += chunk;
      const url = /"url":"([^"]+)"/.exec(output)?.[1];
      if (url === undefined) return;
      child.stdout.off('data', untilListening);
      child.stdout.resume();
      child.removeAllListeners('exit');
      resolve({ child, url });
    });
  });
}

async function main() {
  const requests = Number(process.argv[2]);
  if (!Number.isInteger(requests) || requests < 1) throw new Error('usage: node scripts/bench/instructions.mjs <requests>');
  execFileSync('valgrind', ['--version']);
  const directory = mkdtempSync(join(os.tmpdir(), 'dosrouter-instructions-'));
  const environment = benchEnvironment();
  const started = [];
  try {
    const simulator = await startServer(process.execPath, [join(ROOT, 'packages/provider-sim/dist/main.js'), '--host', '127.0.0.1', '--port', '0', '--config', writeSimulatorConfig(directory)], environment);
    started.push(simulator.child);
    const config = writeGatewayConfig(join(directory, 'gateway'), simulator.url);
    // Under valgrind a request takes a good fraction of a second: the gateway's own header and request deadlines
    // (10 s and 60 s by default) would answer 408 to the clients that wait their turn.
    writeFileSync(config.path, readFileSync(config.path, 'utf8').replace('server: { host: 127.0.0.1, port: 0 }', 'server: { host: 127.0.0.1, port: 0, headersTimeoutMs: 600000, requestTimeoutMs: 600000 }'));
    const outFile = join(directory, 'callgrind.out');
    const gateway = await startServer(
      'valgrind',
      ['-q', '--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${outFile}`, process.execPath, join(ROOT, 'packages/gateway/dist/main.js'), '--config', config.path],
      { ...environment, PORT: '0', HOST: '127.0.0.1', DOSROUTER_DATA_DIR: join(directory, 'data') },
    );
    started.push(gateway.child);
    const body = requestBody(false);
    let sent = 0;
    const loop = async (count) => {
      for (let index = 0; index < count; index += 1) {
        const response = await fetch(`${gateway.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: DEFAULT_AUTHORIZATION },
          body,
        });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`the gateway answered ${response.status}`);
        sent += 1;
      }
    };
    const startedAt = Date.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, index) => loop(Math.floor(requests / CONCURRENCY) + (index < requests % CONCURRENCY ? 1 : 0))));
    const seconds = (Date.now() - startedAt) / 1000;
    gateway.child.kill('SIGTERM');
    await once(gateway.child, 'exit');
    const total = Number(/^totals: (\d+)/m.exec(readFileSync(outFile, 'utf8'))?.[1]);
    console.log(JSON.stringify({ requests: sent, concurrency: CONCURRENCY, seconds, instructions: total }));
  } finally {
    for (const child of started) if (child.exitCode === null) child.kill('SIGTERM');
    rmSync(directory, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`instructions: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
