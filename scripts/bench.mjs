// `pnpm bench`: throughput, latency and gateway cost per request, direct to the provider simulator, through the
// embedded gateway and through the cluster topology (redis-server, replicas in cluster mode, nginx), each its own
// process on this machine over loopback; then long streams (thousands at once) direct, through nginx and through
// the gateway. Writes bench/results/<timestamp>.json and latest.json.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runAutocannon } from './bench/load-autocannon.mjs';
import { OUTPUT_TOKENS, UNREACHABLE_PER_KEY_LIMITS, writeGatewayConfig, writeSimulatorConfig } from './bench/configs.mjs';
import { findWrk, runWrk, wrkVersion } from './bench/load-wrk.mjs';
import { addStopHook, benchEnvironment, killAllChildrenNow, startServerProcess, stopAllChildren } from './bench/processes.mjs';
import { formatReport, targetChecks } from './bench/report.mjs';
import { requestBody, runScenario, selectScenarios } from './bench/scenarios.mjs';
import { runStreamRateSweep } from './bench/stream-rate.mjs';
import { formatRateReport, formatStreamReport } from './bench/stream-report.mjs';
import { DEFAULT_STREAM_SECONDS, runStreamScenario, streamRates } from './bench/stream-scenarios.mjs';
import { startNginx, startStreamSystem } from './bench/stream-system.mjs';
import { embeddedSystem, startClusterSystem } from './bench/topologies.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_DIRECTORY = join(ROOT, 'bench', 'results');
const SIMULATOR_MAIN = join(ROOT, 'packages', 'provider-sim', 'dist', 'main.js');
const GATEWAY_MAIN = join(ROOT, 'packages', 'gateway', 'dist', 'main.js');

const USAGE = `usage: node scripts/bench.mjs [options]
  --duration N       seconds measured per scenario (default 10); for the stream scenarios, the length of
                     each stream (default ${DEFAULT_STREAM_SECONDS})
  --warmup N         seconds of discarded warm-up before each (default 2; stream scenarios have none)
  --connections N    concurrency of the loaded scenarios (default 64)
  --streams N        streams of streams-1k and streams-10k instead of 1,000 and 10,000
  --only LIST        comma-separated scenario names or words: nonstream, stream, single, direct, gateway,
                     cluster, nginx, limits, streams (streams-1k, streams-10k, streams-burst), rate (streams-rate)
  --rate-streams N   streams of each streams-rate run (default 500)
  --rates LIST       events/s per stream of the streams-rate sweep (default 10,20,40,50; each must divide 1000 ms)
  --rate-all         run every rate of the sweep, past the first one nginx or the gateway did not sustain
  --json PATH        also write the result document to PATH
  --tool NAME        wrk or autocannon (default: wrk when installed, else autocannon)

streams-rate is not in the default set (up to 12 runs of ~25 s; --duration default 20 there): run it with
--only streams-rate. nginx, gateway and gateway-h2 at each rate in turn, rising until nginx or the gateway no
longer sustains the rate: events received over the steady window (every stream open) < 95 % of streams × rate,
or p99 gap added between events > 200 ms. CPU per event is over that window; the report adds each target's highest
sustained rate and the marginal cost per event between the two highest (Δcpu/Δevents, less stable).`;

function parseOptions() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '64' },
      streams: { type: 'string' },
      'rate-streams': { type: 'string' },
      rates: { type: 'string' },
      'rate-all': { type: 'boolean', default: false },
      only: { type: 'string' },
      json: { type: 'string' },
      tool: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const whole = (name, minimum) => {
    const number = Number(values[name]);
    if (!Number.isInteger(number) || number < minimum) throw new Error(`--${name} must be a whole number >= ${minimum}, got "${values[name]}"`);
    return number;
  };
  if (values.tool !== undefined && !['wrk', 'autocannon'].includes(values.tool)) {
    throw new Error(`--tool must be wrk or autocannon, got "${values.tool}"`);
  }
  return {
    durationSeconds: values.duration === undefined ? 10 : whole('duration', 1),
    // Unset: each stream scenario's own length (DEFAULT_STREAM_SECONDS).
    streamSeconds: values.duration === undefined ? undefined : whole('duration', 1),
    streamCount: values.streams === undefined ? undefined : whole('streams', 1),
    rateStreamCount: values['rate-streams'] === undefined ? undefined : whole('rate-streams', 1),
    sweepRates: values.rates === undefined ? undefined : parseRates(values.rates),
    rateAll: values['rate-all'],
    warmupSeconds: whole('warmup', 0),
    connections: whole('connections', 1),
    scenarios: selectScenarios(values.only),
    jsonPath: values.json === undefined ? undefined : resolve(values.json),
    tool: values.tool,
  };
}

function parseRates(text) {
  const rates = text.split(',').map(Number);
  // The simulator's interval between events is a whole number of milliseconds.
  if (rates.some((rate) => !(rate > 0 && Number.isInteger(1000 / rate)))) throw new Error(`--rates must be events per second that divide 1000 ms, got "${text}"`);
  return rates;
}

function chooseLoadGenerator(tool) {
  const wrkPath = tool === 'autocannon' ? undefined : findWrk();
  if (tool === 'wrk' && wrkPath === undefined) throw new Error('--tool wrk: wrk is not installed (looked in /usr/bin and on PATH)');
  if (wrkPath !== undefined) {
    return {
      tool: 'wrk',
      path: wrkPath,
      version: wrkVersion(wrkPath),
      threads: 1,
      latencyResolutionMs: 0.001,
      description: `wrk (${wrkPath}), 1 thread (-t1): 2 cores, one for the gateway, the other shared by the simulator and wrk`,
      run: (load) => runWrk(wrkPath, load),
    };
  }
  const require = createRequire(import.meta.url);
  return {
    tool: 'autocannon',
    version: require('autocannon/package.json').version,
    latencyResolutionMs: 1,
    description: `autocannon${tool === 'autocannon' ? '' : ' (wrk not found)'}, in the harness process; latencies have 1 ms resolution`,
    run: runAutocannon,
  };
}

/**
 * A digest of the built JavaScript of the packages under test. Several people edit this tree at once, so a commit
 * alone does not say which code produced a set of figures; two runs with the same digest ran the same code.
 */
function buildDigest() {
  const hash = createHash('sha256');
  for (const packageName of ['shared', 'provider-sim', 'gateway']) {
    const distDirectory = join(ROOT, 'packages', packageName, 'dist');
    const files = readdirSync(distDirectory, { recursive: true })
      .filter((file) => file.endsWith('.js'))
      .sort();
    for (const file of files) hash.update(`${packageName}/${file}\0`).update(readFileSync(join(distDirectory, file)));
  }
  return hash.digest('hex').slice(0, 16);
}

function machineFacts() {
  let gitCommit;
  let gitDirty;
  try {
    gitCommit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    gitDirty = execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
  } catch {
    // Not a git checkout; the figures still stand, without a commit to pin them to.
  }
  return {
    nodeVersion: process.version,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cpuCount: os.availableParallelism(),
    totalMemoryMegabytes: Math.round(os.totalmem() / 1024 ** 2),
    kernel: os.release(),
    loadAverageAtStart: os.loadavg(),
    gitCommit,
    gitDirty,
    buildDigest: buildDigest(),
  };
}

/** The benchmark sends nothing off this machine: both processes must have announced a loopback address. */
function requireLoopback(server) {
  const { hostname } = new URL(server.url);
  if (hostname !== '127.0.0.1') throw new Error(`${server.name} announced ${server.url}; the benchmark only uses 127.0.0.1`);
}

async function startServers(directory) {
  const environment = benchEnvironment();
  const simulator = await startServerProcess({
    name: 'simulator',
    script: SIMULATOR_MAIN,
    args: ['--host', '127.0.0.1', '--port', '0', '--config', writeSimulatorConfig(directory)],
    env: environment,
  });
  requireLoopback(simulator);
  // Embedded mode (no Redis), one backend, the access log on as in production.
  const gatewayConfig = writeGatewayConfig(join(directory, 'embedded'), simulator.url);
  const gateway = await startServerProcess({
    name: 'gateway',
    script: GATEWAY_MAIN,
    args: ['--config', gatewayConfig.path],
    // Embedded mode's journals (storage.dataDir) in the run's directory: measured as users run it, left nowhere.
    env: { ...environment, PORT: '0', HOST: '127.0.0.1', DOSROUTER_DATA_DIR: join(directory, 'data') },
  });
  requireLoopback(gateway);
  // The reference proxy of the short-request scenarios (nonstream-nginx, single-nginx): nginx, 1 worker, in front of
  // the same simulator; idle while the others run.
  const nginx = await startNginx({ runDirectory: join(directory, 'simulator-nginx'), simulatorUrl: simulator.url, name: 'nginx' });
  addStopHook({
    stop: () => nginx.process.stop({ signal: 'SIGQUIT', timeoutMs: 5_000 }),
    killNow: () => nginx.workerPids.forEach(killQuietly),
  });
  return { simulator, gateway, gatewayConfig, nginx };
}

function killQuietly(pid) {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** One request each way must succeed before anything is measured, or the figures would measure error paths. */
async function checkSanity({ simulator, gateway, nginx }) {
  const post = (url, stream) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' },
      body: requestBody(stream),
    });
  const direct = await post(`${simulator.url}/chat/completions`, false);
  if (direct.status !== 200) {
    throw new Error(`sanity check: the simulator answered ${direct.status} directly: ${(await direct.text()).slice(0, 500)}`);
  }
  await direct.arrayBuffer();
  const proxied = await post(`${nginx.url}/v1/chat/completions`, false);
  if (proxied.status !== 200) {
    throw new Error(`sanity check: the simulator answered ${proxied.status} through nginx: ${(await proxied.text()).slice(0, 500)}`);
  }
  await proxied.arrayBuffer();

  const response = await post(`${gateway.url}/v1/chat/completions`, false);
  const text = await response.text();
  const deployment = response.headers.get('x-dosrouter-deployment');
  if (response.status !== 200 || deployment === null) {
    throw new Error(
      `sanity check: a request through the gateway must answer 200 with an x-dosrouter-deployment header; got ${response.status}, ` +
        `x-dosrouter-deployment ${deployment === null ? 'missing' : `"${deployment}"`}. Body: ${text.slice(0, 500)}`,
    );
  }
  const completionTokens = JSON.parse(text).usage?.completion_tokens;

  const stream = await post(`${gateway.url}/v1/chat/completions`, true);
  const streamText = await stream.text();
  if (stream.status !== 200 || !streamText.includes('data: [DONE]')) {
    throw new Error(`sanity check: a streaming request through the gateway answered ${stream.status} without "data: [DONE]": ${streamText.slice(0, 500)}`);
  }
  return { deployment, completionTokens };
}

function writeResults(document, jsonPath) {
  mkdirSync(RESULTS_DIRECTORY, { recursive: true });
  const text = `${JSON.stringify(document, null, 2)}\n`;
  const timestamped = join(RESULTS_DIRECTORY, `${document.startedAt.replaceAll(':', '-')}.json`);
  const written = [timestamped, join(RESULTS_DIRECTORY, 'latest.json')];
  if (jsonPath !== undefined) {
    mkdirSync(dirname(jsonPath), { recursive: true });
    written.push(jsonPath);
  }
  for (const path of written) writeFileSync(path, text);
  return written;
}

/**
 * Runs the scenarios in order on the topology each names. The embedded gateway runs throughout; a cluster topology
 * is started when a scenario needs it and stopped before the next one that needs another, so that at most one runs
 * at a time and nothing idle polls Redis meanwhile. Returns the results and a record of every topology used.
 */
async function runScenarios(options, { runLoad, servers, directory }) {
  const results = [];
  const streamResults = [];
  let rateSweep;
  const topologies = [];
  const embedded = servers && { system: embeddedSystem(servers, servers.gatewayConfig), record: { name: 'embedded', scenarios: [] } };
  if (embedded) topologies.push(embedded.record);
  let streams;
  let cluster;
  const stopCluster = async () => {
    if (cluster === undefined) return;
    await cluster.system.close();
    Object.assign(cluster.record, cluster.system.describe());
    cluster = undefined;
  };
  for (const scenario of options.scenarios) {
    if (scenario.kind !== undefined) {
      await stopCluster();
      if (streams === undefined) {
        console.error('starting the stream system (simulator, gateway, nginx)');
        const rates = streamRates(options.scenarios, options.sweepRates);
        const system = await startStreamSystem({ directory, rates, simulatorMain: SIMULATOR_MAIN, gatewayMain: GATEWAY_MAIN });
        streams = { system, record: { name: 'streams', scenarios: [] } };
        topologies.push(streams.record);
      }
      streams.record.scenarios.push(scenario.name);
      if (scenario.kind === 'streams-rate') {
        const sweep = await runStreamRateSweep(scenario, { system: streams.system, durationSeconds: options.streamSeconds, streamCount: options.rateStreamCount, rates: options.sweepRates, runEveryRate: options.rateAll });
        streamResults.push(...sweep.results);
        rateSweep = sweep.summary;
        continue;
      }
      streamResults.push(
        ...(await runStreamScenario(scenario, { system: streams.system, durationSeconds: options.streamSeconds, streamCount: options.streamCount, directory })),
      );
      continue;
    }
    if (scenario.topology === 'embedded') {
      await stopCluster();
    } else if (cluster?.system.topology !== scenario.topology) {
      await stopCluster();
      console.error(`starting ${scenario.topology}`);
      const system = await startClusterSystem(scenario.topology, { root: ROOT, directory, servers });
      const processes = system.processes.filter((entry) => entry.role !== 'idle').map((entry) => `${entry.name} ${entry.pid}`);
      console.error(`${scenario.topology}: ${processes.join(', ')}; replicas seen through nginx: ${system.sanity.replicasSeenThroughNginx.join(', ')}`);
      cluster = { system, record: { name: scenario.topology, scenarios: [] } };
      topologies.push(cluster.record);
    }
    const { system, record } = scenario.topology === 'embedded' ? embedded : cluster;
    record.scenarios.push(scenario.name);
    console.error(`running ${scenario.name}: ${options.warmupSeconds} s warm-up, ${options.durationSeconds} s measured`);
    results.push(await runScenario(scenario, { runLoad, system, options }));
  }
  await stopCluster();
  if (streams !== undefined) {
    Object.assign(streams.record, streams.system.describe());
    await streams.system.close();
  }
  if (embedded) Object.assign(embedded.record, embedded.system.describe());
  return { results, streamResults, rateSweep, topologies };
}

async function main() {
  const options = parseOptions();
  const loadGenerator = chooseLoadGenerator(options.tool);
  const startedAt = new Date().toISOString();
  const machine = machineFacts();
  const directory = mkdtempSync(join(os.tmpdir(), 'dosrouter-bench-'));
  process.once('exit', () => rmSync(directory, { recursive: true, force: true }));

  // The short-request scenarios share one simulator and gateway; the stream scenarios start their own.
  const needsServers = options.scenarios.some((scenario) => scenario.kind === undefined);
  const servers = needsServers ? await startServers(directory) : undefined;
  const sanity = needsServers ? await checkSanity(servers) : undefined;
  if (needsServers) {
    console.error(`simulator ${servers.simulator.url} (pid ${servers.simulator.pid}), gateway ${servers.gateway.url} (pid ${servers.gateway.pid}), deployment "${sanity.deployment}"`);
  }

  const { results, streamResults, rateSweep, topologies } = await runScenarios(options, { runLoad: loadGenerator.run, servers, directory });
  await stopAllChildren();

  const { run: _run, ...loadGeneratorFacts } = loadGenerator;
  const document = {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: { ...machine, loadAverageAtEnd: os.loadavg() },
    loadGenerator: loadGeneratorFacts,
    settings: {
      durationSeconds: options.durationSeconds,
      warmupSeconds: options.warmupSeconds,
      connections: options.connections,
      outputTokens: OUTPUT_TOKENS,
      requestBody: JSON.parse(requestBody(false)),
      accessLog: true,
      nodeEnv: 'production',
      perKeyLimitsOfTheLimitsScenario: UNREACHABLE_PER_KEY_LIMITS,
      streamSeconds: options.streamSeconds ?? DEFAULT_STREAM_SECONDS,
      streamCount: options.streamCount,
    },
    sanity,
    // Which processes each scenario loaded and the configs they ran with: every topology started, in order.
    topologies,
    results,
    streamResults,
    rateSweep,
    // Warn and error lines the gateway logged over the whole benchmark, warm-ups included, and the first few of them.
    gatewayLog: servers && { ...servers.gateway.logCounts, firstProblemLines: servers.gateway.firstProblemLines },
  };
  document.targets = targetChecks(results, loadGenerator.latencyResolutionMs);
  if (results.length > 0) console.log(formatReport(document));
  if (streamResults.length > 0) console.log(formatStreamReport(document));
  if (rateSweep !== undefined) console.log(formatRateReport(rateSweep));
  console.log(`\nwrote ${writeResults(document, options.jsonPath).join(', ')}`);
  if ([...results, ...streamResults].some((result) => result.problems.length > 0)) process.exitCode = 1;
}

// Ctrl-C or a stop request: stop the cluster topology, the simulator, the gateway and any load generator before leaving.
let interrupted = false;
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: stopping child processes`);
    stopAllChildren().finally(() => process.exit(code));
  });
}
process.once('exit', killAllChildrenNow);

main().catch(async (error) => {
  // A load generator stopped by Ctrl-C fails its run; that is not worth a message, the signal handler exits.
  if (interrupted) return;
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
  await stopAllChildren();
  process.exit(1);
});
