// Where the gateway's CPU goes per relayed event in long streams: the stream scenarios' simulator and gateway (HTTP/1.1
// to the simulator, or h2c with --h2), the gateway under `node --cpu-prof`, N streams at R events/s from the stream
// load generator; then self time by part (profile-gateway.mjs's parts) and the top functions by self time, both per
// event received by the clients. Only samples after every stream has opened count (the ramp and the first events are
// per-stream work).
// After `pnpm run build`:
//   NODE_ENV=production node scripts/bench/profile-streams.mjs [--streams 500] [--duration 20] [--rate 10] [--h2]
//     [--top 40] [--floor undici|raw|h2] [--keep DIR] [--profile FILE.cpuprofile --events N]
import { once } from 'node:events';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_AUTHORIZATION, streamModelName, writeStreamGatewayConfig, writeStreamSimulatorConfig } from './configs.mjs';
import { readCpuSeconds } from './process-usage.mjs';
import { attribute } from './profile-gateway.mjs';
import { benchEnvironment, spawnTracked, startServerProcess, stopAllChildren, stopChild } from './processes.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const STREAM_LOAD_SCRIPT = fileURLToPath(new URL('./stream-load.mjs', import.meta.url));

const { values } = parseArgs({
  options: {
    streams: { type: 'string', default: '500' },
    duration: { type: 'string', default: '20' },
    rate: { type: 'string', default: '10' },
    h2: { type: 'boolean', default: false },
    top: { type: 'string', default: '40' },
    keep: { type: 'string' },
    interval: { type: 'string', default: '500' },
    floor: { type: 'string' },
    // perf(1) instead of V8's profiler: CPU-time samples (cpu-clock, user space only at perf_event_paranoid 2) of the
    // steady window, JS frames named through --perf-basic-prof; prints `perf report`'s top symbols by self share.
    perf: { type: 'boolean', default: false },
    profile: { type: 'string' },
    events: { type: 'string' },
  },
});

/** Self time by function (name, script, line), in ms, from `fromMicroseconds` into the profile. */
function selfTimeByFunction(profile, fromMicroseconds) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map();
  let at = profile.startTime;
  for (let index = 0; index < profile.samples.length; index += 1) {
    at += profile.timeDeltas[index] ?? 0;
    if (at - profile.startTime < fromMicroseconds) continue;
    const frame = nodes.get(profile.samples[index]).callFrame;
    const script = frame.url.replace(/^.*\/node_modules\/\.pnpm\/([^/]+)\/.*\/([^/]+)$/, '$1 $2').replace(/^.*\/dist\//, '').replace(/^file:\/\//, '');
    const key = `${frame.functionName || '(anonymous)'} ${script}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[index] ?? 0) / 1000);
  }
  return totals;
}

function report(profile, fromMicroseconds, events) {
  const parts = [...attribute(profile, fromMicroseconds)].filter(([part]) => part !== 'idle');
  const busyMs = parts.reduce((sum, [, ms]) => sum + ms, 0);
  const perEvent = (ms) => ((ms * 1000) / events).toFixed(2);
  console.log(`sampled busy ${busyMs.toFixed(0)} ms over ${events} events: ${perEvent(busyMs)} µs/event sampled`);
  console.log('\npart | share | µs/event');
  for (const [part, ms] of parts.sort((a, b) => b[1] - a[1])) console.log(`${part} | ${((ms / busyMs) * 100).toFixed(1)} % | ${perEvent(ms)}`);
  const functions = [...selfTimeByFunction(profile, fromMicroseconds)].filter(([name]) => !name.startsWith('(idle)'));
  console.log(`\ntop ${values.top} functions by self time | share | µs/event`);
  for (const [name, ms] of functions.sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
    console.log(`${name} | ${((ms / busyMs) * 100).toFixed(1)} % | ${perEvent(ms)}`);
  }
}

async function main() {
  if (values.profile) {
    report(JSON.parse(readFileSync(values.profile, 'utf8')), 0, Number(values.events));
    return;
  }
  const streams = Number(values.streams);
  const seconds = Number(values.duration);
  const rate = Number(values.rate);
  const directory = mkdtempSync(join(os.tmpdir(), 'dosrouter-profile-streams-'));
  const profileDirectory = join(directory, 'profile');
  try {
    const environment = benchEnvironment();
    const simulator = await startServerProcess({
      name: 'simulator',
      script: join(ROOT, 'packages/provider-sim/dist/main.js'),
      args: ['--host', '127.0.0.1', '--port', '0', '--config', writeStreamSimulatorConfig(directory, [rate])],
      env: environment,
    });
    const config = writeStreamGatewayConfig(join(directory, 'gateway'), simulator.url, [rate], values.h2 ? { http2: 'on' } : {});
    const nodeArguments = values.perf ? ['--perf-basic-prof'] : ['--cpu-prof', `--cpu-prof-dir=${profileDirectory}`, `--cpu-prof-interval=${values.interval}`];
    // --floor MODE profiles relay-floor-server.mjs (undici, raw or h2) in the gateway's place.
    const gateway = values.floor
      ? await startServerProcess({
          name: `floor ${values.floor}`,
          script: fileURLToPath(new URL('./relay-floor-server.mjs', import.meta.url)),
          args: ['--mode', values.floor, '--upstream', simulator.url],
          env: environment,
          nodeArguments,
        })
      : await startServerProcess({
          name: 'gateway',
          script: join(ROOT, 'packages/gateway/dist/main.js'),
          args: ['--config', config.path],
          env: { ...environment, PORT: '0', HOST: '127.0.0.1', DOSROUTER_DATA_DIR: join(directory, 'data') },
          nodeArguments,
        });
    const body = JSON.stringify({
      model: streamModelName(rate),
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: seconds * rate,
      messages: [{ role: 'user', content: 'Say hello in one short sentence.' }],
    });
    const options = { url: `${gateway.url}/v1/chat/completions`, body, headers: { authorization: DEFAULT_AUTHORIZATION }, streams, intervalMs: 1000 / rate, rampSeconds: 1, timeoutSeconds: seconds + 60 };
    const loadAverage = os.loadavg().map((value) => value.toFixed(2)).join(' ');
    const startedAt = process.hrtime.bigint();
    const cpuBefore = readCpuSeconds(gateway.pid);
    const child = spawnTracked(process.execPath, [STREAM_LOAD_SCRIPT, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
    // The steady state: from 3 s in (every stream open, past its first events) to the end of the run.
    let steadyFrom;
    let perf;
    const perfData = join(directory, 'perf.data');
    const steadyTimer = setTimeout(() => {
      steadyFrom = process.hrtime.bigint();
      if (values.perf) perf = spawnTracked('perf', ['record', '-g', '-e', 'cpu-clock:u', '-F', '4000', '-p', String(gateway.pid), '-o', perfData], { stdio: 'ignore' });
    }, 3_000);
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (text) => (stdout += text));
    const [code] = await once(child, 'exit');
    clearTimeout(steadyTimer);
    if (code !== 0) throw new Error(`stream load exited ${code}`);
    const load = JSON.parse(stdout);
    const cpuSeconds = readCpuSeconds(gateway.pid) - cpuBefore;
    if (perf !== undefined) {
      perf.kill('SIGINT');
      await once(perf, 'exit');
      const { execFileSync } = await import('node:child_process');
      const text = execFileSync('perf', ['report', '-i', perfData, '--no-children', '--sort', 'dso,sym', '--stdio', '--percent-limit', '0.4'], { encoding: 'utf8', maxBuffer: 1 << 26 });
      console.log(`${streams} streams × ${rate} events/s × ${seconds} s over ${values.h2 ? 'h2c' : 'HTTP/1.1'}, load average at start ${loadAverage}: ${load.completed}/${load.failed} done/failed, ${load.events} events, CPU ${((cpuSeconds * 1e6) / load.events).toFixed(1)} µs/event`);
      console.log(text.split('\n').filter((line) => /^\s+\d/.test(line)).slice(0, Number(values.top)).join('\n'));
      if (values.keep) {
        mkdirSync(values.keep, { recursive: true });
        copyFileSync(perfData, join(values.keep, 'perf.data'));
      }
      await stopAllChildren();
      return;
    }
    await stopChild(gateway.child);
    const sinceSteady = Number(process.hrtime.bigint() - steadyFrom) / 1000;
    await stopAllChildren();
    const [file] = readdirSync(profileDirectory).filter((name) => name.endsWith('.cpuprofile'));
    const profile = JSON.parse(readFileSync(join(profileDirectory, file), 'utf8'));
    // Events in the steady window, taken as the run's events in proportion to its time (the rate is constant).
    const runMicroseconds = Number(process.hrtime.bigint() - startedAt) / 1000;
    const steadyEvents = Math.round((load.events * Math.min(sinceSteady, runMicroseconds)) / (load.durationSeconds * 1e6));
    console.log(
      `${streams} streams × ${rate} events/s × ${seconds} s over ${values.h2 ? 'h2c' : 'HTTP/1.1'}, load average at start ${loadAverage}: ` +
        `${load.completed}/${load.failed} done/failed, ${load.events} events, gateway CPU ${((cpuSeconds * 1e6) / load.events).toFixed(1)} µs/event (whole run, profiler on)`,
    );
    report(profile, profile.endTime - profile.startTime - sinceSteady, steadyEvents);
    if (values.keep) {
      mkdirSync(values.keep, { recursive: true });
      copyFileSync(join(profileDirectory, file), join(values.keep, `streams-${values.h2 ? 'h2' : 'h1'}.cpuprofile`));
    }
  } finally {
    await stopAllChildren();
    rmSync(directory, { recursive: true, force: true });
  }
}

main().catch(async (error) => {
  console.error(`profile-streams: ${error instanceof Error ? error.stack : String(error)}`);
  await stopAllChildren();
  process.exit(1);
});
