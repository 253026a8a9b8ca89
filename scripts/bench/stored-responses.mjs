// `node scripts/bench/stored-responses.mjs` (after `pnpm run build`): what stored responses cost POST /v1/responses.
// The simulator, an embedded gateway and a gateway on the Redis at REDIS_URL (default 127.0.0.1:6379, under a prefix
// of its own, deleted at the end) run as processes; autocannon sends a one-line prompt with store: false, store: true
// and previous_response_id, in rounds, and each result gives the server's CPU time per request (from /proc), which a
// busy machine disturbs less than throughput. SECONDS_PER (default 4) and ROUNDS (default 3) set the run's length.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runAutocannon } from './load-autocannon.mjs';
import { writeGatewayConfig, writeSimulatorConfig } from './configs.mjs';
import { killAllChildrenNow, startServerProcess, stopAllChildren } from './processes.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const seconds = Number(process.env.SECONDS_PER ?? 4);
const rounds = Number(process.env.ROUNDS ?? 3);
const connections = 8;
// Ctrl-C, a stop request or a crash: the simulator and the gateways go with this process.
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) process.once(signal, () => stopAllChildren().finally(() => process.exit(code)));
process.once('exit', killAllChildrenNow);
const dir = mkdtempSync(join(tmpdir(), 'dosrouter-stored-responses-'));
const results = [];
try {
  const sim = await startServerProcess({ name: 'simulator', script: `${ROOT}/packages/provider-sim/dist/main.js`, args: ['--host', '127.0.0.1', '--port', '0', '--config', writeSimulatorConfig(dir)], env: process.env });
  const { path } = writeGatewayConfig(dir, sim.url);
  const env = { ...process.env, PORT: '0', HOST: '127.0.0.1', DOSROUTER_ADMIN_KEY: '' };
  const embedded = await startServerProcess({ name: 'embedded', script: `${ROOT}/packages/gateway/dist/main.js`, args: ['--config', path], env: { ...env, DOSROUTER_DATA_DIR: join(dir, 'data') } });
  const prefix = `bench-store-${process.pid}`;
  const cluster = await startServerProcess({ name: 'cluster', script: `${ROOT}/packages/gateway/dist/main.js`, args: ['--config', path], env: { ...env, REDIS_URL, DOSROUTER_REDIS_PREFIX: prefix } });
  const body = (extra) => JSON.stringify({ model: 'bench-model', input: 'Tell me about the weather in Paris in one paragraph.', ...extra });
  const headers = { authorization: 'Bearer sk-bench' };
  const cpuMs = (pid) => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  };
  const run = async (name, url, payload, pid, warm = true) => {
    const probe = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: payload });
    if (probe.status !== 200) throw new Error(`${name}: ${probe.status} ${await probe.text()}`);
    if (warm) await runAutocannon({ url, body: payload, headers, connections, durationSeconds: 2 });
    const before = pid ? cpuMs(pid) : 0;
    const result = await runAutocannon({ url, body: payload, headers, connections, durationSeconds: seconds });
    const cpuPerRequestUs = pid ? Math.round(((cpuMs(pid) - before) * 1000) / result.requests) : null;
    results.push({ name, rps: Math.round(result.requestsPerSecond), p50: result.latencyMs.p50, p99: result.latencyMs.p99, cpuPerRequestUs, non2xx: result.non2xx });
    console.log(JSON.stringify(results.at(-1)));
  };
  // A continuation run has no warm-up and stays short: each one stores a response too, and embedded mode keeps at
  // most responses.store.embedded.maxEntries (10,000), dropping the oldest, the continued one among them.
  const first = async (url) => {
    const response = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: body({}) });
    return (await response.json()).id;
  };
  await run('simulator direct (native /v1/responses)', `${sim.url}/responses`, body({}), sim.pid);
  for (let round = 1; round <= rounds; round += 1) {
    await run(`embedded store:false #${round}`, `${embedded.url}/v1/responses`, body({ store: false }), embedded.pid);
    await run(`embedded store:true #${round}`, `${embedded.url}/v1/responses`, body({ store: true }), embedded.pid);
    await run(`embedded continuation #${round}`, `${embedded.url}/v1/responses`, body({ previous_response_id: await first(`${embedded.url}/v1/responses`) }), embedded.pid, false);
    await run(`redis store:false #${round}`, `${cluster.url}/v1/responses`, body({ store: false }), cluster.pid);
    await run(`redis store:true #${round}`, `${cluster.url}/v1/responses`, body({ store: true }), cluster.pid);
    await run(`redis continuation #${round}`, `${cluster.url}/v1/responses`, body({ previous_response_id: await first(`${cluster.url}/v1/responses`) }), cluster.pid, false);
  }
  const scenarios = [...new Set(results.map((result) => result.name.replace(/ #\d+$/, '')))];
  for (const scenario of scenarios) {
    const cpu = results.filter((result) => result.name.replace(/ #\d+$/, '') === scenario).map((result) => result.cpuPerRequestUs).sort((a, b) => a - b);
    console.log(`${scenario}: CPU per request, median of ${cpu.length}: ${cpu[Math.floor(cpu.length / 2)]} us`);
  }
} finally {
  await stopAllChildren();
  // The Redis-backed gateway's keys (stored responses, usage): SCAN and UNLINK, never FLUSHDB.
  const { port, hostname } = new URL(REDIS_URL);
  const cli = (...args) => execFileSync('redis-cli', ['-h', hostname, '-p', port || '6379', ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const keys = cli('--scan', '--pattern', `bench-store-${process.pid}:*`).split('\n').filter(Boolean);
  for (let start = 0; start < keys.length; start += 500) cli('unlink', ...keys.slice(start, start + 500));
  rmSync(dir, { recursive: true, force: true });
}
