// The long-stream scenarios of `pnpm bench`: N concurrent SSE streams at a fixed event rate, each run straight to the
// simulator (the baseline), through nginx (the reference proxy) and through the gateway, in that order and in the
// same run, so that the ratios to nginx compare like with like on a machine whose load changes over time.
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { DEFAULT_AUTHORIZATION, streamModelName, writeStreamGatewayConfig } from './configs.mjs';
import {
  readCpuSeconds,
  readHarnessAndFinishedChildrenCpuSeconds,
  readMachineCpuSeconds,
  readPeakRssMegabytes,
  readRssMegabytes,
  readTcpCounters,
  resetPeakRss,
} from './process-usage.mjs';
import { spawnTracked } from './processes.mjs';

const STREAM_LOAD_SCRIPT = fileURLToPath(new URL('./stream-load.mjs', import.meta.url));

/** Stream length when --duration is not given: the ~30 s streams of issue 18. */
export const DEFAULT_STREAM_SECONDS = 30;

/** A stream that has not ended this long after its expected end counts as timed out. */
const STREAM_TIMEOUT_SLACK_SECONDS = 60;

/** Kernel TCP counters read around each run (read-only, this network namespace). */
const TCP_COUNTERS = ['ListenOverflows', 'ListenDrops'];

/** Pause between two runs, so that the previous run's sockets have closed and its garbage is collected. */
export const SETTLE_MS = 3_000;

/** The burst scenario's limits.perKey.concurrency: the burst sends twice as many streams at once, from one key. */
const BURST_CONCURRENCY_LIMIT = 200;

/** Every stream scenario, in the order they run. `targets` run in order within a scenario. */
export const STREAM_SCENARIOS = [
  {
    name: 'streams-1k',
    kind: 'streams',
    streams: 1_000,
    eventsPerSecond: 10,
    rampSeconds: 1,
    targets: ['direct', 'nginx', 'gateway', 'gateway-h2'],
    words: ['streams', 'long'],
    description: '1,000 concurrent streams at 10 events/s each',
  },
  {
    name: 'streams-10k',
    kind: 'streams',
    streams: 10_000,
    eventsPerSecond: 1,
    rampSeconds: 10,
    targets: ['direct', 'nginx', 'gateway', 'gateway-h2'],
    words: ['streams', 'long'],
    description: '10,000 concurrent streams at 1 event/s each: the connection-holding case',
  },
  {
    // Not in the default set (selected only by name or "rate"): up to 12 runs of ~25 s. stream-rate.mjs runs it.
    name: 'streams-rate',
    kind: 'streams-rate',
    optional: true,
    streams: 500,
    rates: [10, 20, 40, 50],
    defaultSeconds: 20,
    rampSeconds: 1,
    targets: ['nginx', 'gateway', 'gateway-h2'],
    words: ['rate'],
    description: 'CPU per event at rising event rates (500 streams, 10, 20, 40, 50 events/s each), nginx, gateway and gateway-h2 interleaved per rate, up to the highest rate sustained',
  },
  {
    name: 'streams-burst',
    kind: 'streams-burst',
    streams: 2 * BURST_CONCURRENCY_LIMIT,
    concurrencyLimit: BURST_CONCURRENCY_LIMIT,
    eventsPerSecond: 10,
    rampSeconds: 0,
    targets: ['gateway'],
    words: ['streams', 'burst', 'limits'],
    description: `2× limits.perKey.concurrency (${BURST_CONCURRENCY_LIMIT}) at once from one key: each stream completes or is refused with 429/503 and retry-after, no circuit opens`,
  },
];

/**
 * The event rates the selected stream scenarios need, one simulator model each (`sweepRates`: the rates of the
 * streams-rate sweep, when --rates changes them).
 */
export function streamRates(scenarios, sweepRates) {
  const rates = scenarios
    .filter((scenario) => scenario.kind?.startsWith('streams'))
    .flatMap((scenario) => (scenario.kind === 'streams-rate' ? (sweepRates ?? scenario.rates) : [scenario.eventsPerSecond]));
  return [...new Set(rates)];
}

/** The request of every stream run: `streamSeconds` of content events at `eventsPerSecond`, usage included. */
export function streamRequestBody(eventsPerSecond, streamSeconds) {
  return JSON.stringify({
    model: streamModelName(eventsPerSecond),
    stream: true,
    // Usage on every path, so that direct, nginx and the gateway all deliver the same events.
    stream_options: { include_usage: true },
    max_tokens: Math.round(streamSeconds * eventsPerSecond),
    messages: [{ role: 'user', content: 'Say hello in one short sentence.' }],
  });
}

/** Runs the stream load generator as its own process, so that its CPU is not the harness's; resolves with its result. */
export async function runStreamLoadProcess(options) {
  const child = spawnTracked(process.execPath, [STREAM_LOAD_SCRIPT, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text) => (stderr = (stderr + text).slice(-4_000)));
  const [code, signal] = await once(child, 'exit');
  if (code !== 0) throw new Error(`the stream load generator exited (code ${code}, signal ${signal}): ${stderr}`);
  return { pid: child.pid, ...JSON.parse(stdout) };
}

/**
 * The pids of a target's proxy: none straight to the simulator, nginx's master and worker, or the gateway (gateway-h2:
 * the gateway that speaks HTTP/2 to the simulator).
 */
function proxyOf(system, target, gateway) {
  if (target === 'gateway-h2') return { name: 'gateway-h2', pids: [system.gatewayH2.pid], rssPid: system.gatewayH2.pid, log: system.gatewayH2 };
  if (target === 'nginx') return { name: 'nginx', pids: [system.nginx.process.pid, ...system.nginx.workerPids], rssPid: system.nginx.workerPids[0], log: system.nginx.log };
  if (target === 'gateway') return { name: 'gateway', pids: [gateway.pid], rssPid: gateway.pid, log: gateway };
  return undefined;
}

const sumCpu = (pids) => pids.reduce((sum, pid) => sum + readCpuSeconds(pid), 0);

/** The warm-up before a target's first measured run: this many streams of {@link WARM_UP_SECONDS} at the scenario's rate. */
const WARM_UP_STREAMS = 500;
const WARM_UP_SECONDS = 3;
/** Targets warmed up in this process (a proxy stays warm across scenarios). */
const warmTargets = new Set();

/**
 * Streams sent to `target` once, unmeasured, before its first measured run: a freshly started gateway spends about
 * 2 s of CPU compiling its hot paths and opening its first pool connections (measured: a short stream cost a fresh
 * gateway 2.5 ms in its first round of 1,000 and 0.94 ms by its fifth; nginx ~0.2 ms from the first), which a
 * measured run would otherwise charge to its events. Every target is warmed the same way, nginx and the simulator
 * included, so the ratios compare steady states. The measured run's RSS peak is reset after it.
 */
export async function warmUp({ target, system, gateway, authorization, eventsPerSecond }) {
  const key = target === 'gateway' ? `gateway:${gateway.pid}` : target;
  if (warmTargets.has(key)) return;
  warmTargets.add(key);
  console.error(`warming up ${target}: ${WARM_UP_STREAMS} streams of ${WARM_UP_SECONDS} s, not measured`);
  const warm = await runStreamLoadProcess({
    url: target === 'gateway' ? `${gateway.url}/v1/chat/completions` : system.urls[target],
    body: streamRequestBody(eventsPerSecond, WARM_UP_SECONDS),
    headers: { authorization },
    streams: WARM_UP_STREAMS,
    intervalMs: 1000 / eventsPerSecond,
    rampSeconds: 1,
    timeoutSeconds: WARM_UP_SECONDS + 1 + STREAM_TIMEOUT_SLACK_SECONDS,
  });
  if (warm.failed > 0) console.error(`warm-up of ${target}: ${warm.failed} of ${WARM_UP_STREAMS} streams failed`);
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
}

/**
 * One run of `streams` streams to `target`, measured from the first stream opened to the last one ended: the
 * proxy's CPU per event received by the clients and its peak RSS, the simulator's, and the load generator's result
 * (with `window`, also the proxy's CPU and the events in that steady part of the run).
 */
export async function runStreamTarget({ scenario, target, system, gateway, streamSeconds, streams, body, authorization, window }) {
  const proxy = proxyOf(system, target, gateway);
  const simulatorPid = system.simulator.pid;
  const measuredPids = [simulatorPid, ...(proxy?.pids ?? [])];
  for (const pid of measuredPids) resetPeakRss(pid);
  const proxyRssBefore = proxy && readRssMegabytes(proxy.rssPid);
  const logBefore = proxy && { ...proxy.log.logCounts };
  const machineBefore = readMachineCpuSeconds();
  const harnessBefore = readHarnessAndFinishedChildrenCpuSeconds();
  const proxyCpuBefore = proxy && sumCpu(proxy.pids);
  const simulatorCpuBefore = readCpuSeconds(simulatorPid);
  const tcpBefore = readTcpCounters(TCP_COUNTERS);

  const load = await runStreamLoadProcess({
    url: target === 'gateway' ? `${gateway.url}/v1/chat/completions` : system.urls[target],
    body,
    headers: { authorization },
    streams,
    intervalMs: 1000 / scenario.eventsPerSecond,
    rampSeconds: scenario.rampSeconds,
    timeoutSeconds: streamSeconds + scenario.rampSeconds + STREAM_TIMEOUT_SLACK_SECONDS,
    // The steady window's CPU is the proxy's (none straight to the simulator).
    window: window && proxy && { ...window, pids: proxy.pids },
  });

  const machineAfter = readMachineCpuSeconds();
  const tcpAfter = readTcpCounters(TCP_COUNTERS);
  const seconds = load.durationSeconds;
  const perEvent = (cpuSeconds) => (load.events > 0 ? (cpuSeconds * 1e6) / load.events : undefined);
  const simulatorCpu = readCpuSeconds(simulatorPid) - simulatorCpuBefore;
  const result = {
    name: `${scenario.name}-${target}`,
    scenario: scenario.name,
    target,
    description: scenario.description,
    streams,
    eventsPerSecond: scenario.eventsPerSecond,
    streamSeconds,
    rampSeconds: scenario.rampSeconds,
    ...load,
    // Connections dropped at a full accept queue during the run, by any listener in this network namespace.
    kernel: Object.fromEntries(TCP_COUNTERS.map((name) => [name, tcpAfter[name] - tcpBefore[name]])),
    simulator: { cpuSeconds: simulatorCpu, cpuMicrosecondsPerEvent: perEvent(simulatorCpu), cpuCores: simulatorCpu / seconds, peakRssMegabytes: readPeakRssMegabytes(simulatorPid) },
  };
  let proxyCpu = 0;
  if (proxy !== undefined) {
    proxyCpu = sumCpu(proxy.pids) - proxyCpuBefore;
    const peakRssMegabytes = readPeakRssMegabytes(proxy.rssPid);
    result.proxy = {
      name: proxy.name,
      cpuSeconds: proxyCpu,
      cpuMicrosecondsPerEvent: perEvent(proxyCpu),
      cpuCores: proxyCpu / seconds,
      peakRssMegabytes,
      rssMegabytesBefore: proxyRssBefore,
      // What the streams added at their peak, per stream: the peak over the run less the process's RSS before it.
      peakRssKilobytesPerStream: ((peakRssMegabytes - proxyRssBefore) * 1024) / streams,
      warnLines: proxy.log.logCounts.warn - logBefore.warn,
      errorLines: proxy.log.logCounts.error - logBefore.error,
      // The first warn or error lines the process logged since it started (this run's or an earlier one's).
      firstProblemLines: [...proxy.log.firstProblemLines],
    };
  }
  const machineBusy = machineAfter.busy - machineBefore.busy;
  const harness = readHarnessAndFinishedChildrenCpuSeconds() - harnessBefore;
  // The load generator has exited, so its CPU is in the harness's reaped-children time (and in its own report).
  result.machine = {
    busyCores: machineBusy / seconds,
    stealCores: (machineAfter.steal - machineBefore.steal) / seconds,
    otherProcessesCores: (machineBusy - simulatorCpu - proxyCpu - harness) / seconds,
  };
  result.problems = [
    ...(load.failed > 0 && scenario.kind === 'streams' ? [`${load.failed} of ${streams} streams failed: ${JSON.stringify(load.failures)}`] : []),
    ...(result.proxy?.errorLines > 0 ? [`${result.proxy.errorLines} error lines in the ${proxy.name} log`] : []),
  ];
  return result;
}

/** Each circuit's state from the gateway's /metrics: 0 closed, 0.5 half-open, 1 open. */
async function readCircuitStates(gatewayUrl) {
  const text = await (await fetch(`${gatewayUrl}/metrics`)).text();
  const states = {};
  for (const match of text.matchAll(/^dosrouter_circuit_state\{deployment="([^"]+)"\} (\S+)$/gm)) states[match[1]] = Number(match[2]);
  return states;
}

/**
 * Runs one stream scenario on the stream system: every target in turn, with a pause between them. The burst scenario
 * starts its own gateway with limits.perKey.concurrency and checks, after the burst, that every stream either
 * completed or was refused with 429/503 and retry-after, and that no circuit opened.
 */
export async function runStreamScenario(scenario, { system, durationSeconds, streamCount, directory }) {
  const streamSeconds = durationSeconds ?? DEFAULT_STREAM_SECONDS;
  const streams = scenario.kind === 'streams' && streamCount !== undefined ? streamCount : scenario.streams;
  const body = streamRequestBody(scenario.eventsPerSecond, streamSeconds);
  const results = [];
  if (scenario.kind === 'streams-burst') {
    const config = writeStreamGatewayConfig(`${directory}/streams/burst-gateway`, system.simulator.url, [scenario.eventsPerSecond], { perKeyConcurrency: scenario.concurrencyLimit });
    const gateway = await system.startGateway('burst gateway', config);
    const result = await runStreamTarget({ scenario, target: 'gateway', system, gateway, streamSeconds, streams, body, authorization: 'Bearer bench-key' });
    const circuits = await readCircuitStates(gateway.url);
    result.gatewayConfig = config.text;
    result.circuits = circuits;
    const answeredWell = result.completed + result.refusedWithRetryAfter;
    if (answeredWell !== streams) result.problems.push(`${streams - answeredWell} streams neither completed nor were refused with retry-after: ${JSON.stringify(result.failures)}`);
    const opened = Object.entries(circuits).filter(([, state]) => state !== 0);
    if (opened.length > 0) result.problems.push(`circuits not closed after the burst: ${opened.map(([name, state]) => `${name} ${state}`).join(', ')}`);
    results.push(result);
    return results;
  }
  for (const target of scenario.targets) {
    await warmUp({ target, system, gateway: system.gateway, authorization: DEFAULT_AUTHORIZATION, eventsPerSecond: scenario.eventsPerSecond });
    console.error(`running ${scenario.name}-${target}: ${streams} streams of ${streamSeconds} s at ${scenario.eventsPerSecond} events/s, opened over ${scenario.rampSeconds} s`);
    results.push(await runStreamTarget({ scenario, target, system, gateway: system.gateway, streamSeconds, streams, body, authorization: DEFAULT_AUTHORIZATION }));
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  }
  return results;
}
