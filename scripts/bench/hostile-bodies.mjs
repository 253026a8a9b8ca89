// `node scripts/bench/hostile-bodies.mjs` (after `pnpm run build`): how long hostile request bodies within the
// default body limit (10 MB) stall a concurrent healthy request. Starts the provider simulator and the gateway
// (embedded mode, default server.bodyLimits) as two processes on 127.0.0.1; for each attack, some connections send
// its body back to back while one connection sends small chat completions one after another (--healthy models:
// GET /v1/models, which the gateway answers alone, so that the simulator's own work on the attack bodies is not
// counted), and the healthy requests' latency is reported beside a run without attack. Issue 19's target: healthy
// p99 stalled by < 50 ms.
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, Agent } from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeGatewayConfig, writeSimulatorConfig } from './configs.mjs';
import { benchEnvironment, startServerProcess, stopAllChildren } from './processes.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SIMULATOR_MAIN = join(ROOT, 'packages', 'provider-sim', 'dist', 'main.js');
const GATEWAY_MAIN = join(ROOT, 'packages', 'gateway', 'dist', 'main.js');

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    attackers: { type: 'string', default: '1,4' },
    only: { type: 'string' },
    // chat: small chat completions (gateway and simulator); models: GET /v1/models (the gateway alone).
    healthy: { type: 'string', default: 'chat' },
  },
});
const SECONDS = Number(values.seconds);
const ATTACKER_COUNTS = values.attackers.split(',').map(Number);

const MESSAGES = '"messages":[{"role":"user","content":"hi"}]';
const chat = (extra) => Buffer.from(`{"model":"bench-model",${MESSAGES},${extra}}`);
const repeatJoined = (count, make) => Array.from({ length: count }, (_, index) => make(index)).join(',');

/** The worst bodies we could build within 10 MB: refused by the default server.bodyLimits, or within them. */
const ATTACKS = {
  // Issue 19: 4.8 s of event loop per request before the limits.
  'refused: 800,000 top-level keys (9.5 MB)': () => chat(repeatJoined(800_000, (index) => `"k${index}":0`)),
  'refused: 5,000,000 array elements (10 MB)': () => chat(`"x":[${'0,'.repeat(4_999_999)}0]`),
  'refused: 20,000-deep nesting (40 KB)': () => chat(`"x":${'['.repeat(20_000)}${']'.repeat(20_000)}`),
  'refused: 50,000 distinct key names (0.6 MB)': () => chat(`"x":[${repeatJoined(5_000, (object) => `{${repeatJoined(10, (key) => `"k${object}_${key}":0`)}}`)}]`),
  // Within the limits: every byte goes through the scanner, JSON.parse, validation and the upstream body.
  'accepted: a 9.9 MB string': () => chat(`"user":"${'lorem ipsum '.repeat(820_000)}"`),
  'accepted: 450,000 short strings (10 MB)': () => chat(`"x":[${repeatJoined(5, () => `[${'"abcdefghijklmnopqrst",'.repeat(89_999)}""]`)}]`),
  'accepted: 490,000 numbers (1 MB)': () => chat(`"x":[${repeatJoined(5, () => `[${'1,'.repeat(97_999)}1]`)}]`),
  'refused: 490 objects of 999 keys (6 MB)': () => chat(`"x":[${repeatJoined(490, () => `{${repeatJoined(999, (index) => `"k${index}":0`)}}`)}]`),
  'accepted: 100 objects of 999 keys (1.2 MB)': () => chat(`"x":[${repeatJoined(100, () => `{${repeatJoined(999, (index) => `"k${index}":0`)}}`)}]`),
  'accepted: 9,900 distinct key names (0.1 MB)': () => chat(`"x":[${repeatJoined(990, (object) => `{${repeatJoined(10, (key) => `"k${object}_${key}":0`)}}`)}]`),
  'accepted: a 9.9 MB string of \\u escapes': () => chat(`"user":"${'\\u00e9'.repeat(1_650_000)}"`),
};

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** One POST of `body` to chat completions, or without a body a GET of /v1/models; resolves with its status and ms. */
function post(url, body) {
  return new Promise((resolve) => {
    const started = performance.now();
    const target = body ? `${url}/v1/chat/completions` : `${url}/v1/models`;
    const headers = body ? { 'content-type': 'application/json', 'content-length': body.length } : {};
    const outgoing = httpRequest(target, { method: body ? 'POST' : 'GET', agent, headers }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode, ms: performance.now() - started }));
    });
    outgoing.on('error', () => resolve({ status: 0, ms: performance.now() - started }));
    outgoing.end(body);
  });
}

const HEALTHY = values.healthy === 'models' ? undefined : Buffer.from(`{"model":"bench-model",${MESSAGES}}`);

async function measure(url, attackBody, attackers) {
  const stopAt = performance.now() + SECONDS * 1_000;
  const attackStatuses = new Map();
  const attack = async () => {
    while (performance.now() < stopAt) {
      const { status } = await post(url, attackBody);
      attackStatuses.set(status, (attackStatuses.get(status) ?? 0) + 1);
    }
  };
  const latencies = [];
  let failures = 0;
  const healthy = async () => {
    while (performance.now() < stopAt) {
      const { status, ms } = await post(url, HEALTHY);
      if (status === 200) latencies.push(ms);
      else failures += 1;
    }
  };
  await Promise.all([healthy(), ...(attackBody ? Array.from({ length: attackers }, attack) : [])]);
  latencies.sort((left, right) => left - right);
  const at = (quantile) => latencies[Math.min(latencies.length - 1, Math.floor(quantile * latencies.length))];
  return { count: latencies.length, failures, p50: at(0.5), p99: at(0.99), max: latencies.at(-1), attackStatuses: Object.fromEntries(attackStatuses) };
}

const format = (ms) => `${ms.toFixed(1)} ms`;

async function main() {
  const directory = mkdtempSync(join(os.tmpdir(), 'dosrouter-hostile-'));
  const environment = benchEnvironment();
  delete environment.DOSROUTER_ADMIN_KEY;
  try {
    const simulator = await startServerProcess({ name: 'simulator', script: SIMULATOR_MAIN, args: ['--host', '127.0.0.1', '--port', '0', '--config', writeSimulatorConfig(directory)], env: environment });
    const gatewayConfig = writeGatewayConfig(join(directory, 'gateway'), simulator.url);
    const gateway = await startServerProcess({ name: 'gateway', script: GATEWAY_MAIN, args: ['--config', gatewayConfig.path], env: { ...environment, PORT: '0', HOST: '127.0.0.1' } });
    console.log(`node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model}), ${SECONDS} s per run; healthy: 1 connection, ${values.healthy === 'models' ? 'GET /v1/models' : 'small chat completions'} back to back`);
    await measure(gateway.url, undefined, 0); // warm-up
    const baseline = await measure(gateway.url, undefined, 0);
    console.log(`no attack: ${baseline.count} healthy, p50 ${format(baseline.p50)}, p99 ${format(baseline.p99)}, max ${format(baseline.max)}`);
    for (const [name, build] of Object.entries(ATTACKS)) {
      if (values.only && !name.includes(values.only)) continue;
      const body = build();
      for (const attackers of ATTACKER_COUNTS) {
        const result = await measure(gateway.url, body, attackers);
        console.log(
          `${name}, ${attackers} attacking connection(s): ${result.count} healthy (${result.failures} failed), p50 ${format(result.p50)}, p99 ${format(result.p99)} (+${format(result.p99 - baseline.p99)}), max ${format(result.max)}; attack answers ${JSON.stringify(result.attackStatuses)}`,
        );
      }
    }
  } finally {
    await stopAllChildren();
    rmSync(directory, { recursive: true, force: true });
  }
}

await main();
