import { DEFAULT_AUTHORIZATION } from './configs.mjs';
import {
  readCpuSeconds,
  readHarnessAndFinishedChildrenCpuSeconds,
  readMachineCpuSeconds,
  readPeakRssMegabytes,
  readRssMegabytes,
  resetPeakRss,
} from './process-usage.mjs';
import { readRedisInfo, redisWorkPerRequest } from './redis-info.mjs';
import { STREAM_SCENARIOS } from './stream-scenarios.mjs';

/**
 * CPU (in cores) that processes other than ours may use during a measured run before the run is marked noisy: on 2
 * cores, a tenth of a core elsewhere already moves the figures by a few per cent.
 */
const NOISE_THRESHOLD_CORES = 0.1;

const PROMPT = 'Say hello in one short sentence.';

export function requestBody(stream) {
  const body = { model: 'bench-model', messages: [{ role: 'user', content: PROMPT }] };
  if (stream) body.stream = true;
  return JSON.stringify(body);
}

/**
 * Every scenario, in the order they run. Each direct run comes just before its gateway twin, so that the two see
 * the machine in the same state. `connections: 'option'` means the --connections value (default 64). `topology`
 * names what is loaded (topologies.mjs): the embedded gateway, or a cluster topology started for the scenario;
 * `target` is where the load goes in it. `words` are extra words --only selects a scenario by.
 */
export const SCENARIOS = [
  { name: 'nonstream-direct', topology: 'embedded', target: 'direct', stream: false, connections: 'option', description: 'non-streaming, direct to the simulator' },
  { name: 'nonstream-nginx', topology: 'embedded', target: 'nginx', stream: false, connections: 'option', description: 'non-streaming, through nginx (1 worker) to the simulator: the reference proxy' },
  { name: 'nonstream-gateway', topology: 'embedded', target: 'gateway', stream: false, connections: 'option', description: 'non-streaming, through the gateway' },
  { name: 'stream-direct', topology: 'embedded', target: 'direct', stream: true, connections: 'option', description: 'streaming, direct to the simulator' },
  { name: 'stream-gateway', topology: 'embedded', target: 'gateway', stream: true, connections: 'option', description: 'streaming, through the gateway' },
  { name: 'single-direct', topology: 'embedded', target: 'direct', stream: false, connections: 1, description: 'one request in flight, direct to the simulator' },
  { name: 'single-nginx', topology: 'embedded', target: 'nginx', stream: false, connections: 1, description: 'one request in flight, through nginx (1 worker) to the simulator' },
  { name: 'single-gateway', topology: 'embedded', target: 'gateway', stream: false, connections: 1, description: 'one request in flight, through the gateway' },
  {
    name: 'cluster1-nonstream',
    topology: 'cluster-1-replica',
    target: 'replica',
    stream: false,
    connections: 'option',
    words: ['cluster'],
    description: 'non-streaming, one gateway replica in cluster mode (own redis-server), loaded directly',
  },
  {
    name: 'cluster1-single',
    topology: 'cluster-1-replica',
    target: 'replica',
    stream: false,
    connections: 1,
    words: ['cluster', 'single'],
    description: 'one request in flight, one gateway replica in cluster mode: its usage record is written to Redis before each answer ends',
  },
  {
    name: 'cluster1-limits-nonstream',
    topology: 'cluster-1-replica-limits',
    target: 'replica',
    stream: false,
    connections: 'option',
    words: ['cluster'],
    description: 'as cluster1-nonstream with per-key limits: every request is admitted through Redis',
  },
  {
    name: 'cluster1-concurrency-nonstream',
    topology: 'cluster-1-replica-concurrency',
    target: 'replica',
    stream: false,
    connections: 'option',
    words: ['cluster', 'limits'],
    description: 'as cluster1-limits-nonstream with limits.perKey.concurrency 32: past it requests wait for a slot of their key',
  },
  {
    name: 'nginx1-nonstream',
    topology: 'cluster-1-replica',
    target: 'nginx',
    stream: false,
    connections: 'option',
    words: ['cluster', 'nginx'],
    description: 'non-streaming, nginx in front of 1 replica in cluster mode',
  },
  {
    name: 'nginx2-nonstream',
    topology: 'cluster-2-replicas',
    target: 'nginx',
    stream: false,
    connections: 'option',
    words: ['cluster', 'nginx'],
    description: 'non-streaming, nginx in front of 2 replicas in cluster mode',
  },
];

/** What --only chooses from: the short-request scenarios above, then the long-stream ones (stream-scenarios.mjs). */
const ALL_SCENARIOS = [...SCENARIOS, ...STREAM_SCENARIOS];

/**
 * An --only entry names a scenario ("stream-gateway") or every scenario with that word in its name or its words
 * ("single", "gateway", "cluster", "nginx").
 */
export function selectScenarios(only) {
  if (only === undefined) return ALL_SCENARIOS.filter((scenario) => !scenario.optional);
  const words = only.split(',').map((word) => word.trim()).filter(Boolean);
  const unknown = words.filter((word) => !ALL_SCENARIOS.some((scenario) => matches(scenario, word)));
  if (unknown.length > 0) {
    throw new Error(`--only: no scenario matches ${unknown.join(', ')}; scenarios are ${ALL_SCENARIOS.map((scenario) => scenario.name).join(', ')}`);
  }
  return ALL_SCENARIOS.filter((scenario) => words.some((word) => matches(scenario, word)));
}

/** An optional scenario (streams-rate) runs only when named, or by its own words: not with every "streams". */
function matches(scenario, word) {
  if (scenario.optional) return scenario.name === word || (scenario.words ?? []).includes(word);
  return scenario.name === word || [...scenario.name.split('-'), ...(scenario.words ?? [])].includes(word);
}

/**
 * Warms up (result discarded), then measures one scenario on `system` (topologies.mjs). For every process of the
 * system it reads CPU time just before and after the measured run, so that CPU per request covers the measured
 * requests only; the few requests still in flight when the load generator stops are the error in that figure.
 */
export async function runScenario(scenario, { runLoad, system, options }) {
  const connections = scenario.connections === 'option' ? options.connections : scenario.connections;
  // The same headers both ways; the gateway ignores a client's Authorization (unless per-key limits are set, when it
  // names the key) and sends its own key upstream.
  const load = { url: system.loadUrl(scenario), body: requestBody(scenario.stream), headers: { authorization: system.authorization ?? DEFAULT_AUTHORIZATION }, connections };

  if (options.warmupSeconds > 0) await runLoad({ ...load, durationSeconds: options.warmupSeconds });

  // In the embedded topology nginx fronts the simulator, not the gateway: only the gateway's own scenarios load it.
  const gateways = scenario.target === 'direct' || (system.topology === 'embedded' && scenario.target !== 'gateway') ? [] : system.gateways;
  const peakRssReset = gateways.map((gateway) => resetPeakRss(gateway.pid));
  const logCountsBefore = gateways.map((gateway) => ({ ...gateway.log.logCounts }));
  const nginxLogBefore = system.nginx && { ...system.nginx.log.logCounts };
  // RSS before and after show growth from run to run, which a peak alone would hide.
  const rssBefore = gateways.map((gateway) => readRssMegabytes(gateway.pid));
  const redisBefore = system.redis && (await readRedisInfo(system.redis.port, ['stats', 'commandstats']));
  const cpuBefore = readCpuSnapshot(system.processes);
  const measured = await runLoad({ ...load, durationSeconds: options.durationSeconds });
  const exited = system.exitedProcess();
  if (exited !== undefined) {
    throw new Error(`${exited.name} exited during ${scenario.name} (code ${exited.exit.code}, signal ${exited.exit.signal}). stderr:\n${exited.stderrTail}`);
  }
  const cpuAfter = readCpuSnapshot(system.processes);
  const redisAfter = system.redis && (await readRedisInfo(system.redis.port, ['stats', 'commandstats']));

  const cpuSeconds = (names) => names.reduce((sum, name) => sum + cpuAfter.processes[name] - cpuBefore.processes[name], 0);
  const roleSeconds = (role) => cpuSeconds(system.processes.filter((entry) => entry.role === role).map((entry) => entry.name));
  const usage = (seconds) => ({
    cpuMicrosecondsPerRequest: measured.requests > 0 ? (seconds * 1e6) / measured.requests : undefined,
    // Share of one core over the measured run; 1.0 means the process kept one core busy the whole time.
    cpuCoreShare: seconds / measured.durationSeconds,
  });
  const cores = (seconds) => seconds / measured.durationSeconds;
  const machine = {
    busyCores: cores(cpuAfter.machineBusy - cpuBefore.machineBusy),
    stealCores: cores(cpuAfter.machineSteal - cpuBefore.machineSteal),
    // Everything busy that is not one of the system's processes, this harness or wrk: other work on the machine.
    otherProcessesCores: cores(
      cpuAfter.machineBusy - cpuBefore.machineBusy - cpuSeconds(system.processes.map((entry) => entry.name)) - (cpuAfter.harness - cpuBefore.harness),
    ),
  };
  const result = {
    name: scenario.name,
    description: scenario.description,
    topology: system.topology,
    target: scenario.target,
    stream: scenario.stream,
    connections,
    ...measured,
    simulator: usage(roleSeconds('simulator')),
    harnessAndLoadGeneratorCores: cores(cpuAfter.harness - cpuBefore.harness),
    machine,
  };
  const perGateway = gateways.map((gateway, index) => ({
    ...usage(cpuSeconds([gateway.name])),
    peakRssMegabytes: readPeakRssMegabytes(gateway.pid),
    peakRssScope: peakRssReset[index] ? 'measured run' : 'since process start',
    rssMegabytesBefore: rssBefore[index],
    rssMegabytesAfter: readRssMegabytes(gateway.pid),
    log: {
      warnLines: gateway.log.logCounts.warn - logCountsBefore[index].warn,
      errorLines: gateway.log.logCounts.error - logCountsBefore[index].error,
    },
  }));
  const nginxLog = () => ({
    warnLines: system.nginx.log.logCounts.warn - nginxLogBefore.warn,
    errorLines: system.nginx.log.logCounts.error - nginxLogBefore.error,
  });
  if (system.topology === 'embedded') {
    if (perGateway.length > 0) result.gateway = perGateway[0];
    if (scenario.target === 'nginx') result.nginx = { ...usage(roleSeconds('nginx')), log: nginxLog() };
  } else {
    Object.assign(result, clusterFigures({ system, gateways, perGateway, usage, roleSeconds, cores, cpuSeconds, machine, harnessCores: result.harnessAndLoadGeneratorCores }));
    result.nginx.log = nginxLog();
    result.redis = { ...result.redis, ...redisWorkPerRequest(redisBefore, redisAfter, measured.requests) };
  }
  result.problems = describeProblems(result);
  result.noise = describeNoise(machine);
  return result;
}

/**
 * A cluster run's figures: `gateway` sums the replicas (CPU) or takes the largest (peak RSS), so that the table's
 * gateway columns read the same for one replica and for two; each replica, nginx (master and workers), the
 * redis-server and every process on its own; and where the machine's cores went.
 */
function clusterFigures({ system, gateways, perGateway, usage, roleSeconds, cores, cpuSeconds, machine, harnessCores }) {
  const gatewaySeconds = roleSeconds('gateway');
  return {
    gateway: {
      ...usage(gatewaySeconds),
      peakRssMegabytes: Math.max(...perGateway.map((entry) => entry.peakRssMegabytes ?? 0)),
      peakRssScope: perGateway.every((entry) => entry.peakRssScope === 'measured run') ? 'measured run' : 'since process start',
      log: {
        warnLines: perGateway.reduce((sum, entry) => sum + entry.log.warnLines, 0),
        errorLines: perGateway.reduce((sum, entry) => sum + entry.log.errorLines, 0),
      },
      replicas: gateways.map((gateway, index) => ({ name: gateway.name, id: gateway.id, pid: gateway.pid, ...perGateway[index] })),
    },
    nginx: { ...usage(roleSeconds('nginx')), workerPids: system.nginx.workerPids },
    redis: { ...usage(roleSeconds('redis')), pid: system.redis.pid },
    processes: system.processes.map((entry) => ({ ...entry, ...usage(cpuSeconds([entry.name])) })),
    cpuCores: {
      gatewayReplicas: cores(gatewaySeconds),
      nginx: cores(roleSeconds('nginx')),
      redis: cores(roleSeconds('redis')),
      simulator: cores(roleSeconds('simulator')),
      idleEmbeddedGateway: cores(roleSeconds('idle')),
      harnessAndLoadGenerator: harnessCores,
      otherProcesses: machine.otherProcessesCores,
      machineBusy: machine.busyCores,
    },
  };
}

function readCpuSnapshot(processes) {
  const machine = readMachineCpuSeconds();
  const seconds = {};
  for (const { name, pid } of processes) {
    try {
      seconds[name] = readCpuSeconds(pid);
    } catch (error) {
      throw new Error(`cannot read the CPU time of ${name} (pid ${pid}), has it gone? ${error.message}`);
    }
  }
  return {
    processes: seconds,
    harness: readHarnessAndFinishedChildrenCpuSeconds(),
    machineBusy: machine.busy,
    machineSteal: machine.steal,
  };
}

/** Why a run cannot be taken at face value; an empty list means a clean run. */
function describeProblems(result) {
  const problems = [];
  if (result.requests === 0) problems.push('no request completed');
  if (result.non2xx > 0) problems.push(`${result.non2xx} non-2xx responses`);
  for (const [kind, count] of Object.entries(result.errors)) {
    if (count > 0) problems.push(`${count} ${kind} errors`);
  }
  if (result.gateway?.log.errorLines > 0) problems.push(`${result.gateway.log.errorLines} error lines in the gateway log`);
  if (result.nginx?.log.errorLines > 0) problems.push(`${result.nginx.log.errorLines} error lines in nginx's error log`);
  return problems;
}

/** Why a clean run's figures may still be off: CPU taken by other processes or by the hypervisor. */
function describeNoise(machine) {
  const noise = [];
  if (machine.otherProcessesCores > NOISE_THRESHOLD_CORES) noise.push(`other processes used ${machine.otherProcessesCores.toFixed(2)} cores`);
  if (machine.stealCores > NOISE_THRESHOLD_CORES) noise.push(`hypervisor steal ${machine.stealCores.toFixed(2)} cores`);
  return noise;
}
