// Where the gateway's memory per open stream goes: starts a stream simulator and a gateway (embedded mode, the stream
// benchmark's config), opens streams in steps (default 1,000 then 3,000 open at once, one event a second each), and
// at each step takes the gateway's memory figures and a heap snapshot (scripts/bench/heap-probe.cjs). Then compares
// the last two snapshots: the self size each constructor added, per stream added, and RSS and V8's own figures.
//
//   pnpm run build && node --max-old-space-size=8192 scripts/bench/stream-heap.mjs [--steps 1000,3000] [--keep DIR]
//     [--no-snapshots] [--http2] [--prompt-bytes N] [--gateway-node-options '--max-semi-space-size=4']
//
// Prints a table and writes it with the raw figures to <dir>/report.json. Snapshots are large (about 60 KB per
// stream): they are deleted unless --keep names a directory. Not part of `pnpm bench`: a snapshot stalls the gateway
// for seconds, so nothing else is measured in the same run.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_AUTHORIZATION, streamModelName, writeStreamGatewayConfig, writeStreamSimulatorConfig } from './configs.mjs';
import { readPeakRssMegabytes, readRssMegabytes } from './process-usage.mjs';
import { benchEnvironment, startServerProcess, stopAllChildren } from './processes.mjs';
import { raiseOpenFileLimit } from './stream-system.mjs';
import { runStreamLoad } from './stream-load.mjs';
import { readHeapParts } from './heap-parts.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PROBE = fileURLToPath(new URL('./heap-probe.cjs', import.meta.url));

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '1000,3000' },
    keep: { type: 'string' },
    'gateway-node-options': { type: 'string', default: '' },
    'stream-seconds': { type: 'string', default: '180' },
    config: { type: 'string' },
    // HTTP/2 to the simulator (h2c, backends[].http2.mode on) instead of HTTP/1.1.
    http2: { type: 'boolean', default: false },
    // A prompt of this many bytes instead of one short sentence: what a request body costs for a stream's lifetime.
    'prompt-bytes': { type: 'string' },
    // Without snapshots: only the memory figures at each step (a snapshot itself adds to RSS, which glibc keeps).
    'no-snapshots': { type: 'boolean', default: false },
  },
});
const steps = values.steps.split(',').map(Number);
const streamSeconds = Number(values['stream-seconds']);
const directory = values.keep ?? mkdtempSync(join(tmpdir(), 'dosrouter-heap-'));
mkdirSync(directory, { recursive: true });

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForFile(path, timeoutMs) {
  const started = Date.now();
  while (!existsSync(path)) {
    if (Date.now() - started > timeoutMs) throw new Error(`no ${path} after ${timeoutMs} ms`);
    await sleep(200);
  }
}

async function waitForOpenFiles(pid, count, timeoutMs) {
  const started = Date.now();
  while (readdirSync(`/proc/${pid}/fd`).length < count) {
    if (Date.now() - started > timeoutMs) throw new Error(`the gateway has fewer than ${count} open files after ${timeoutMs} ms`);
    await sleep(250);
  }
}

/** Resident kilobytes by kind of mapping: malloc's main heap, anonymous (V8's pages, other malloc arenas), files. */
function readResidentByMapping(pid) {
  const resident = { heap: 0, anonymous: 0, file: 0, other: 0 };
  let kind = 'other';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      const path = header[1];
      kind = path === '[heap]' ? 'heap' : path === '' ? 'anonymous' : path.startsWith('/') ? 'file' : 'other';
    } else if (line.startsWith('Rss:')) resident[kind] += Number(line.split(/\s+/)[1]);
  }
  return resident;
}

async function main() {
  const limit = raiseOpenFileLimit(process.pid);
  const environment = benchEnvironment();
  const simulator = await startServerProcess({
    name: 'heap simulator',
    script: join(ROOT, 'packages/provider-sim/dist/main.js'),
    args: ['--host', '127.0.0.1', '--port', '0', '--config', writeStreamSimulatorConfig(directory, [1])],
    env: environment,
  });
  const config = values.config ? { path: values.config } : writeStreamGatewayConfig(join(directory, 'gateway'), simulator.url, [1], values.http2 ? { http2: 'on' } : {});
  const gateway = await startServerProcess({
    name: 'heap gateway',
    script: join(ROOT, 'packages/gateway/dist/main.js'),
    args: ['--config', config.path],
    env: {
      ...environment,
      PORT: '0',
      HOST: '127.0.0.1',
      DOSROUTER_DATA_DIR: join(directory, 'data'),
      HEAP_PROBE_DIR: directory,
      NODE_OPTIONS: `--require ${PROBE} ${values['gateway-node-options']}`.trim(),
    },
  });
  const body = JSON.stringify({
    model: streamModelName(1),
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: streamSeconds,
    messages: [{ role: 'user', content: values['prompt-bytes'] ? 'x'.repeat(Number(values['prompt-bytes'])) : 'Say hello in one short sentence.' }],
  });
  const figures = [];
  const loads = [];
  let open = 0;
  const rssBefore = readRssMegabytes(gateway.pid);
  const baseFiles = readdirSync(`/proc/${gateway.pid}/fd`).length;
  for (const step of steps) {
    const added = step - open;
    loads.push(
      runStreamLoad({
        url: `${gateway.url}/v1/chat/completions`,
        body,
        headers: { authorization: DEFAULT_AUTHORIZATION },
        streams: added,
        intervalMs: 1000,
        rampSeconds: Math.max(1, added / 500),
        timeoutSeconds: streamSeconds + 60,
      }),
    );
    open = step;
    // Every stream open (a client socket and an upstream one each), then a few events each.
    // Over HTTP/2 the upstream streams share a few connections: one file per stream, and a few.
    await waitForOpenFiles(gateway.pid, baseFiles + Math.floor((values.http2 ? 1 : 2) * step * 0.99), 120_000);
    await sleep(3_000);
    const label = `streams-${step}`;
    const rss = readRssMegabytes(gateway.pid);
    const peakRssMegabytes = readPeakRssMegabytes(gateway.pid);
    const residentKilobytes = readResidentByMapping(gateway.pid);
    const openFiles = readdirSync(`/proc/${gateway.pid}/fd`).length;
    writeFileSync(join(directory, 'label'), values['no-snapshots'] ? `${label} figures` : label);
    rmSync(join(directory, `${label}.json`), { force: true });
    process.kill(gateway.pid, 'SIGUSR2');
    await waitForFile(join(directory, `${label}.json`), 300_000);
    const probed = JSON.parse(readFileSync(join(directory, `${label}.json`), 'utf8'));
    if (values['no-snapshots']) {
      figures.push({ streams: step, rssMegabytes: rss, peakRssMegabytes, residentKilobytes, openFiles, memoryUsage: probed.memoryUsage });
      console.error(`${label}: gateway RSS ${rss.toFixed(1)} MB, peak ${peakRssMegabytes.toFixed(1)} MB (before any stream ${rssBefore.toFixed(1)} MB), ${openFiles} open files, heap used ${(probed.memoryUsage.heapUsed / 2 ** 20).toFixed(1)} MB of ${(probed.memoryUsage.heapTotal / 2 ** 20).toFixed(1)} MB, ${JSON.stringify(residentKilobytes)}`);
      continue;
    }
    figures.push({ streams: step, rssMegabytes: rss, residentKilobytes, openFiles, ...probed });
    console.error(`${label}: gateway RSS ${rss.toFixed(1)} MB (before any stream ${rssBefore.toFixed(1)} MB), ${openFiles} open files, ${JSON.stringify(residentKilobytes)}`);
  }
  await stopAllChildren();
  await Promise.allSettled(loads);
  if (values['no-snapshots']) {
    const [first, last] = figures.slice(-2);
    const kilobytes = (a, b) => ((b - a) * 1024) / (last.streams - first.streams);
    const summary = {
      streams: `${first.streams} → ${last.streams}`,
      rssKilobytesPerStream: kilobytes(first.rssMegabytes, last.rssMegabytes),
      heapTotalKilobytesPerStream: kilobytes(first.memoryUsage.heapTotal / 2 ** 20, last.memoryUsage.heapTotal / 2 ** 20),
      heapUsedKilobytesPerStream: kilobytes(first.memoryUsage.heapUsed / 2 ** 20, last.memoryUsage.heapUsed / 2 ** 20),
      externalKilobytesPerStream: kilobytes(first.memoryUsage.external / 2 ** 20, last.memoryUsage.external / 2 ** 20),
      byMappingKilobytesPerStream: Object.fromEntries(Object.keys(last.residentKilobytes).map((kind) => [kind, (last.residentKilobytes[kind] - first.residentKilobytes[kind]) / (last.streams - first.streams)])),
      rssBeforeMegabytes: rssBefore,
      figures,
    };
    console.log(JSON.stringify(summary, null, 2));
    if (values.keep === undefined) rmSync(directory, { recursive: true, force: true });
    return;
  }

  const [first, last] = figures.slice(-2);
  const streams = last.streams - first.streams;
  const [before, after] = [first, last].map((entry) => readHeapParts(join(directory, `streams-${entry.streams}.heapsnapshot`)));
  const perStream = (a, b) => (b - a) / streams / 1024;
  /** Per stream added between the two snapshots: kilobytes and node count for each key of `field`. */
  const difference = (field) => {
    const rows = [];
    for (const key of new Set([...before[field].keys(), ...after[field].keys()])) {
      const earlier = before[field].get(key) ?? { size: 0, count: 0 };
      const later = after[field].get(key) ?? { size: 0, count: 0 };
      rows.push({ key, kilobytesPerStream: perStream(earlier.size, later.size), countPerStream: (later.count - earlier.count) / streams });
    }
    return rows.sort((left, right) => right.kilobytesPerStream - left.kilobytesPerStream);
  };
  const rows = difference('byConstructor');
  const parts = difference('byPart');
  const usage = (entry) => entry.afterSnapshot.memoryUsage;
  const summary = {
    streams: `${first.streams} → ${last.streams}`,
    openFileLimit: limit,
    rssKilobytesPerStream: perStream(first.rssMegabytes * 1024 * 1024, last.rssMegabytes * 1024 * 1024),
    snapshotKilobytesPerStream: perStream(before.total, after.total),
    heapUsedKilobytesPerStream: perStream(usage(first).heapUsed, usage(last).heapUsed),
    heapTotalKilobytesPerStream: perStream(usage(first).heapTotal, usage(last).heapTotal),
    externalKilobytesPerStream: perStream(usage(first).external, usage(last).external),
    arrayBuffersKilobytesPerStream: perStream(usage(first).arrayBuffers, usage(last).arrayBuffers),
    rssMegabytes: figures.map((entry) => entry.rssMegabytes),
    heapUsedMegabytes: figures.map((entry) => usage(entry).heapUsed / 2 ** 20),
    heapTotalMegabytes: figures.map((entry) => usage(entry).heapTotal / 2 ** 20),
    externalMegabytes: figures.map((entry) => usage(entry).external / 2 ** 20),
  };
  writeFileSync(join(directory, 'report.json'), JSON.stringify({ summary, figures, parts, rows }, null, 2));
  console.log(JSON.stringify(summary, null, 2));
  console.log('\nKB/stream  nodes/stream  part (self sizes by nearest owner, heap snapshot difference)');
  for (const row of parts.filter((entry) => Math.abs(entry.kilobytesPerStream) >= 0.05)) console.log(`${row.kilobytesPerStream.toFixed(3).padStart(9)}  ${row.countPerStream.toFixed(2).padStart(12)}  ${row.key}`);
  console.log('\nKB/stream  count/stream  type:constructor (self sizes, heap snapshot difference)');
  for (const row of rows.slice(0, 45)) console.log(`${row.kilobytesPerStream.toFixed(3).padStart(9)}  ${row.countPerStream.toFixed(2).padStart(12)}  ${row.key}`);
  if (values.keep === undefined) rmSync(directory, { recursive: true, force: true });
  else console.log(`\nsnapshots and report.json in ${directory}`);
}

main().catch(async (error) => {
  console.error(error);
  await stopAllChildren();
  process.exit(1);
});
