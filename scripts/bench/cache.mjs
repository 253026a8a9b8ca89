// The response cache's cost and gain (issue #16): one gateway process (embedded, or on Redis with REDIS_URL) in front
// of the simulator, requests one at a time, three phases in one run: a model the cache is off for (the baseline),
// a cached model with a new question each time (a miss: the lookup and the store), and one question asked again (a
// hit). Reports the gateway process's CPU per request (/proc) and the client's latency, and their ratios.
//   node scripts/bench/cache.mjs [requests per phase, default 2000]   (REDIS_URL=redis://… for cluster mode;
//   DEDUPE=off to measure the cache without in-flight de-duplication)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startSimulator } from '../../packages/provider-sim/dist/index.js';

const REQUESTS = Number(process.argv[2] ?? 2000);
const WARMUP = 300;
const TICKS = 100; // /proc/<pid>/stat counts CPU in clock ticks (USER_HZ)

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
const cpuMsOf = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS;
};

const simulator = await startSimulator({ models: [{ id: 'plain', outputTokens: 16 }, { id: 'cached', outputTokens: 16 }] });
const port = await freePort();
const directory = mkdtempSync(join(tmpdir(), 'dosrouter-cache-bench-'));
const configFile = join(directory, 'gateway.json');
writeFileSync(
  configFile,
  JSON.stringify({
    server: { host: '127.0.0.1', port },
    logging: { level: 'warn', accessLog: false },
    prober: { embedded: false },
    auth: { mode: 'open' },
    storage: { dataDir: null },
    backends: [{ name: 'sim', baseUrl: simulator.baseUrl, models: [{ name: 'plain' }, { name: 'cached' }] }],
    cache: { enabled: true, models: ['cached'], dedupe: { enabled: process.env.DEDUPE !== 'off' } },
  }),
);
const prefix = `bench-cache-${randomBytes(4).toString('hex')}`;
const gateway = spawn(process.execPath, ['packages/gateway/dist/main.js', '--config', configFile], {
  stdio: ['ignore', 'ignore', 'inherit'],
  env: { ...process.env, DOSROUTER_REDIS_PREFIX: prefix },
});
const url = `http://127.0.0.1:${port}/v1/chat/completions`;
for (let tries = 0; ; tries += 1) {
  try {
    if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) break;
  } catch {
    // not listening yet
  }
  if (tries > 200) throw new Error('the gateway did not become ready');
  await new Promise((resolve) => setTimeout(resolve, 50));
}

const ask = async (model, content) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, temperature: 0, messages: [{ role: 'user', content }] }),
  });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`status ${response.status}`);
  return response.headers.get('x-dosrouter-cache');
};

async function phase(name, model, question, expected) {
  for (let index = 0; index < WARMUP; index += 1) await ask(model, question(`warm ${index}`));
  const latencies = [];
  const cpuBefore = cpuMsOf(gateway.pid);
  for (let index = 0; index < REQUESTS; index += 1) {
    const started = performance.now();
    const cache = await ask(model, question(`${index}`));
    latencies.push(performance.now() - started);
    if (cache !== expected) throw new Error(`${name}: x-dosrouter-cache ${cache}, expected ${expected}`);
  }
  const cpuMs = cpuMsOf(gateway.pid) - cpuBefore;
  latencies.sort((a, b) => a - b);
  return { name, p50Ms: latencies[Math.floor(REQUESTS / 2)], p99Ms: latencies[Math.floor(REQUESTS * 0.99)], cpuMsPerRequest: cpuMs / REQUESTS };
}

try {
  // JIT and connections warm for every kind of request before any phase is measured.
  for (let index = 0; index < 3 * WARMUP; index += 1) await ask(index % 2 ? 'plain' : 'cached', `global warm ${index % 3 === 0 ? 'same' : index}`);
  const off = await phase('cache off', 'plain', (tag) => `question ${tag} ${randomBytes(4).toString('hex')}`, null);
  const miss = await phase('miss', 'cached', (tag) => `question ${tag} ${randomBytes(4).toString('hex')}`, 'miss');
  await ask('cached', 'the same question');
  const hit = await phase('hit', 'cached', () => 'the same question', 'hit');
  const ratio = (a, b) => Number((a / b).toFixed(3));
  const rows = [off, miss, hit].map((row) => ({ ...row, p50Ms: Number(row.p50Ms.toFixed(3)), p99Ms: Number(row.p99Ms.toFixed(3)), cpuMsPerRequest: Number(row.cpuMsPerRequest.toFixed(4)) }));
  console.log(JSON.stringify({ mode: process.env.REDIS_URL ? 'redis' : 'embedded', dedupe: process.env.DEDUPE !== 'off', requests: REQUESTS, rows, ratios: {
    hitVsMissLatencyP50: ratio(hit.p50Ms, miss.p50Ms),
    hitVsMissCpu: ratio(hit.cpuMsPerRequest, miss.cpuMsPerRequest),
    missVsOffLatencyP50: ratio(miss.p50Ms, off.p50Ms),
    missVsOffCpu: ratio(miss.cpuMsPerRequest, off.cpuMsPerRequest),
  } }, null, 2));
} finally {
  gateway.kill('SIGTERM');
  await new Promise((resolve) => gateway.once('exit', resolve));
  await simulator.close();
  if (process.env.REDIS_URL) {
    // The cache's keys under this run's own prefix (never FLUSHDB: the Redis may be shared).
    const { connectRedis } = await import('../../packages/shared/dist/index.js');
    const redis = connectRedis({ url: process.env.REDIS_URL, commandTimeoutMs: 2_000 }, 'bench-cache-cleanup');
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
    redis.disconnect();
  }
}
