// Where the gateway's CPU goes on the non-streaming path, by part: starts the simulator and the gateway (embedded
// mode, access log on, NODE_ENV=production, as `pnpm bench` runs them) with the gateway under `node --cpu-prof`,
// loads it with wrk, stops it so that it writes its profile, and attributes every sample to a part of the gateway.
// After `pnpm run build`:
//   node scripts/bench/profile-gateway.mjs [--duration 10] [--connections 64] [--stream] [--keep DIR]
import { mkdtempSync, readdirSync, readFileSync, rmSync, mkdirSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_AUTHORIZATION, writeGatewayConfig, writeSimulatorConfig } from './configs.mjs';
import { findWrk, runWrk } from './load-wrk.mjs';
import { readCpuSeconds } from './process-usage.mjs';
import { benchEnvironment, startServerProcess, stopAllChildren, stopChild } from './processes.mjs';
import { requestBody } from './scenarios.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Parts, matched in order against a frame's script URL (or, for `function`, its function name). A sample is
 * charged to the innermost frame on its stack that is not Node's own code (node:*): Node's HTTP writes called from
 * the attempt count as the attempt's, called from Express as Express's. Samples with only Node frames on their
 * stack (the HTTP parser, socket reads, timers) are charged by their leaf.
 */
const PARTS = [
  // Tracing on (OTEL_EXPORTER_OTLP_ENDPOINT in the environment): the SDK, its exporter, and the gateway's tracing code.
  ['OpenTelemetry (SDK, exporter, tracing code)', /node_modules\/\.pnpm\/@opentelemetry\+|gateway\/dist\/telemetry\/tracing\//],
  ['express and its router', /node_modules\/\.pnpm\/(express|router|finalhandler|on-finished|ee-first|parseurl|path-to-regexp|qs|type-is|content-type|mime-types|vary|depd|merge-descriptors|utils-merge|proxy-addr|forwarded|ipaddr\.js|accepts|negotiator|fresh|range-parser|etag|cookie|cookie-signature|send|serve-static|encodeurl|escape-html|statuses|setprototypeof|http-errors|media-typer|debug|ms|is-promise|safe-buffer|content-disposition|mime-db|body-parser|raw-body|iconv-lite|bytes|unpipe|destroy|toidentifier|inherits|once|wrappy)@/],
  ['undici (upstream client)', /node_modules\/\.pnpm\/undici@/],
  ['prom-client (metrics library)', /node_modules\/\.pnpm\/(prom-client|tdigest|bintrees)@/],
  ['request context (id, headers, outcome, close)', /gateway\/dist\/(middleware\/request-context|request\/request-context|middleware\/security-headers|middleware\/replica-header|proxy\/request-outcome)\.js/],
  ['JSON body (read, shape scan, parse)', /gateway\/dist\/(middleware\/json-body|validation\/json-shape|validation\/json-bytes)\.js/],
  ['validation', /gateway\/dist\/validation\//],
  ['auth', /gateway\/dist\/auth\//],
  ['planning (plan-request, router, pricing headers)', /(gateway\/dist\/proxy\/(plan-request|answer-pricing)\.js|shared\/dist\/(routing|catalog|classifier|pricing))/],
  ['saturation', /gateway\/dist\/saturation\//],
  ['admission (request limits)', /gateway\/dist\/(proxy\/request-limits|proxy\/admission|cluster\/lease-tracking-limiter)\.js|shared\/dist\/limits/],
  ['attempt layers (gate, in-flight, stats, breaker)', /gateway\/dist\/(upstream\/attempt-layers|upstream\/connection-gate|cluster\/)|shared\/dist\/(state|breaker|stats)/],
  ['upstream request and response write (attempt, raw body)', /gateway\/dist\/upstream\//],
  ['proxy handler', /gateway\/dist\/proxy\/proxy-handler\.js/],
  ['access log', /gateway\/dist\/telemetry\/access-log\.js/],
  ['metrics (our calls)', /gateway\/dist\/telemetry\/metrics\.js/],
  ['usage recording', /gateway\/dist\/usage\/|shared\/dist\/usage/],
  ['other gateway code', /gateway\/dist\//],
  ['other shared code', /shared\/dist\//],
  ['other library', /node_modules\//],
];

/** Leaves with only Node's own frames above them, by what they are. */
const NODE_PARTS = [
  ['garbage collection', (frame) => frame.functionName === '(garbage collector)'],
  ['idle', (frame) => frame.functionName === '(idle)'],
  ['(program): native, not attributed by V8', (frame) => frame.functionName === '(program)'],
  ['Node HTTP server (parser, incoming request, socket writes)', (frame) => /node:_http_(server|common|incoming|outgoing)|node:_http/.test(frame.url) || frame.functionName === 'parserOnHeadersComplete'],
  ['Node net/stream (sockets, streams)', (frame) => /node:(net|internal\/streams|stream|internal\/stream_base_commons)/.test(frame.url)],
  ['Node timers and microtasks', (frame) => /node:internal\/(timers|process\/task_queues)/.test(frame.url) || frame.functionName === 'processTicksAndRejections'],
];

function parseOptions() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '64' },
      stream: { type: 'boolean', default: false },
      keep: { type: 'string' },
      interval: { type: 'string', default: '250' },
      profile: { type: 'string' },
    },
  });
  return {
    durationSeconds: Number(values.duration),
    connections: Number(values.connections),
    stream: values.stream,
    keep: values.keep,
    intervalMicroseconds: Number(values.interval),
    profilePath: values.profile,
  };
}

/**
 * Self time per part, in milliseconds, from a V8 .cpuprofile; with `fromMicroseconds`, only samples taken that long
 * after the profile started or later (the measured run, without the start-up and the warm-up).
 */
export function attribute(profile, fromMicroseconds = 0) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const partOfNode = new Map();
  const partOf = (id) => {
    if (partOfNode.has(id)) return partOfNode.get(id);
    let part;
    for (let cursor = id; cursor !== undefined && part === undefined; cursor = parent.get(cursor)) {
      const frame = nodes.get(cursor).callFrame;
      if (frame.url === '' || frame.url.startsWith('node:')) continue;
      part = PARTS.find(([, pattern]) => pattern.test(frame.url))?.[0] ?? 'other code';
    }
    if (part === undefined) {
      const leaf = nodes.get(id).callFrame;
      part = NODE_PARTS.find(([, test]) => test(leaf))?.[0];
      // Climb to the first Node frame that says what it is.
      for (let cursor = parent.get(id); part === undefined && cursor !== undefined; cursor = parent.get(cursor)) {
        part = NODE_PARTS.find(([, test]) => test(nodes.get(cursor).callFrame))?.[0];
      }
      part ??= 'Node, other (module loading at start, events, crypto, …)';
    }
    partOfNode.set(id, part);
    return part;
  };
  const totals = new Map();
  const { samples, timeDeltas } = profile;
  let at = profile.startTime;
  for (let index = 0; index < samples.length; index += 1) {
    at += timeDeltas[index] ?? 0;
    if (at - profile.startTime < fromMicroseconds) continue;
    const part = partOf(samples[index]);
    totals.set(part, (totals.get(part) ?? 0) + (timeDeltas[index] ?? 0) / 1000);
  }
  return totals;
}

function report(totals, requests) {
  const busy = [...totals].filter(([part]) => part !== 'idle');
  const busyMs = busy.reduce((sum, [, ms]) => sum + ms, 0);
  const lines = [`sampled busy time ${busyMs.toFixed(0)} ms${requests ? ` for ${requests} requests (${((busyMs * 1000) / requests).toFixed(1)} µs/request sampled)` : ''}`];
  lines.push('part | share of busy samples | µs/request');
  for (const [part, ms] of busy.sort((a, b) => b[1] - a[1])) {
    lines.push(`${part} | ${((ms / busyMs) * 100).toFixed(1)} % | ${requests ? ((ms * 1000) / requests).toFixed(1) : '-'}`);
  }
  return lines.join('\n');
}

async function main() {
  const options = parseOptions();
  if (options.profilePath) {
    console.log(report(attribute(JSON.parse(readFileSync(options.profilePath, 'utf8')))));
    return;
  }
  const wrk = findWrk();
  if (!wrk) throw new Error('wrk is not installed');
  const directory = mkdtempSync(join(os.tmpdir(), 'dosrouter-profile-'));
  const profileDirectory = join(directory, 'profile');
  try {
    const environment = benchEnvironment();
    const simulator = await startServerProcess({
      name: 'simulator',
      script: join(ROOT, 'packages/provider-sim/dist/main.js'),
      args: ['--host', '127.0.0.1', '--port', '0', '--config', writeSimulatorConfig(directory)],
      env: environment,
    });
    const gatewayConfig = writeGatewayConfig(join(directory, 'embedded'), simulator.url);
    const gateway = await startServerProcess({
      name: 'gateway',
      script: join(ROOT, 'packages/gateway/dist/main.js'),
      args: ['--config', gatewayConfig.path],
      env: {
        ...environment,
        PORT: '0',
        HOST: '127.0.0.1',
        DOSROUTER_DATA_DIR: join(directory, 'data'),
      },
      nodeArguments: ['--cpu-prof', `--cpu-prof-dir=${profileDirectory}`, `--cpu-prof-interval=${options.intervalMicroseconds}`],
    });
    const load = {
      url: `${gateway.url}/v1/chat/completions`,
      body: requestBody(options.stream),
      headers: { authorization: DEFAULT_AUTHORIZATION },
      connections: options.connections,
    };
    await runWrk(wrk, { ...load, durationSeconds: 2 });
    const measuredFrom = process.hrtime.bigint();
    const cpuBefore = readCpuSeconds(gateway.pid);
    const measured = await runWrk(wrk, { ...load, durationSeconds: options.durationSeconds });
    const cpuSeconds = readCpuSeconds(gateway.pid) - cpuBefore;
    await stopChild(gateway.child);
    const measuredAndStoppedMicroseconds = Number(process.hrtime.bigint() - measuredFrom) / 1000;
    await stopAllChildren();
    const [file] = readdirSync(profileDirectory).filter((name) => name.endsWith('.cpuprofile'));
    if (!file) throw new Error('the gateway wrote no profile');
    if (options.keep) {
      mkdirSync(options.keep, { recursive: true });
      copyFileSync(join(profileDirectory, file), join(options.keep, file));
    }
    const profile = JSON.parse(readFileSync(join(profileDirectory, file), 'utf8'));
    // The profile's clock and this one differ in origin: the measured run is placed back from the profile's end,
    // which is when the gateway exited (its shutdown's few samples are included).
    const totals = attribute(profile, profile.endTime - profile.startTime - measuredAndStoppedMicroseconds);
    console.log(
      `${options.stream ? 'streaming' : 'non-streaming'}, ${options.connections} connections, ${options.durationSeconds} s measured (samples of that run only): ` +
        `${measured.requestsPerSecond.toFixed(0)} req/s, gateway CPU ${((cpuSeconds * 1e6) / measured.requests).toFixed(1)} µs/request measured (profiler on)`,
    );
    console.log(report(totals, measured.requests));
  } finally {
    await stopAllChildren();
    rmSync(directory, { recursive: true, force: true });
  }
}

// As a module (profile-streams.mjs imports `attribute`), nothing runs.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch(async (error) => {
    console.error(`profile-gateway: ${error instanceof Error ? error.stack : String(error)}`);
    await stopAllChildren();
    process.exit(1);
  });
}
