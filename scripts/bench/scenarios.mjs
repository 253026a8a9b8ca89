import {
  readCpuSeconds,
  readHarnessAndFinishedChildrenCpuSeconds,
  readMachineCpuSeconds,
  readPeakRssMegabytes,
  readRssMegabytes,
  resetPeakRss,
} from './process-usage.mjs';

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
 * the machine in the same state. `connections: 'option'` means the --connections value (default 64).
 */
export const SCENARIOS = [
  { name: 'nonstream-direct', target: 'direct', stream: false, connections: 'option', description: 'non-streaming, direct to the simulator' },
  { name: 'nonstream-gateway', target: 'gateway', stream: false, connections: 'option', description: 'non-streaming, through the gateway' },
  { name: 'stream-direct', target: 'direct', stream: true, connections: 'option', description: 'streaming, direct to the simulator' },
  { name: 'stream-gateway', target: 'gateway', stream: true, connections: 'option', description: 'streaming, through the gateway' },
  { name: 'single-direct', target: 'direct', stream: false, connections: 1, description: 'one request in flight, direct to the simulator' },
  { name: 'single-gateway', target: 'gateway', stream: false, connections: 1, description: 'one request in flight, through the gateway' },
];

/** An --only entry names a scenario ("stream-gateway") or every scenario with that word ("single", "gateway"). */
export function selectScenarios(only) {
  if (only === undefined) return SCENARIOS;
  const words = only.split(',').map((word) => word.trim()).filter(Boolean);
  const unknown = words.filter((word) => !SCENARIOS.some((scenario) => matches(scenario, word)));
  if (unknown.length > 0) {
    throw new Error(`--only: no scenario matches ${unknown.join(', ')}; scenarios are ${SCENARIOS.map((scenario) => scenario.name).join(', ')}`);
  }
  return SCENARIOS.filter((scenario) => words.some((word) => matches(scenario, word)));
}

function matches(scenario, word) {
  return scenario.name === word || scenario.name.split('-').includes(word);
}

/**
 * Warms up (result discarded), then measures one scenario. For the processes it can see, it reads CPU time just
 * before and after the measured run, so that CPU per request covers the measured requests only; the few requests
 * still in flight when the load generator stops are the error in that figure.
 */
export async function runScenario(scenario, { runLoad, servers, options }) {
  const connections = scenario.connections === 'option' ? options.connections : scenario.connections;
  const { gateway, simulator } = servers;
  const url = `${scenario.target === 'gateway' ? gateway.url : simulator.url.replace(/\/v1$/, '')}/v1/chat/completions`;
  // The same headers both ways; the gateway ignores a client's Authorization and sends its own key upstream.
  const load = { url, body: requestBody(scenario.stream), headers: { authorization: 'Bearer sk-bench' }, connections };

  if (options.warmupSeconds > 0) await runLoad({ ...load, durationSeconds: options.warmupSeconds });

  const throughGateway = scenario.target === 'gateway';
  const peakRssScope = throughGateway && resetPeakRss(gateway.pid) ? 'measured run' : 'since process start';
  const logCountsBefore = { ...gateway.logCounts };
  // RSS before and after show growth from run to run, which a peak alone would hide.
  const rssBefore = throughGateway ? readRssMegabytes(gateway.pid) : undefined;
  const cpuBefore = readCpuSnapshot(servers);
  const measured = await runLoad({ ...load, durationSeconds: options.durationSeconds });
  const cpuAfter = readCpuSnapshot(servers);

  for (const server of [gateway, simulator]) {
    if (server.exit !== undefined) {
      throw new Error(`${server.name} exited during ${scenario.name} (code ${server.exit.code}, signal ${server.exit.signal}). stderr:\n${server.stderrTail}`);
    }
  }

  const usage = (name) => {
    const cpuSeconds = cpuAfter[name] - cpuBefore[name];
    return {
      cpuMicrosecondsPerRequest: measured.requests > 0 ? (cpuSeconds * 1e6) / measured.requests : undefined,
      // Share of one core over the measured run; 1.0 means the process kept one core busy the whole time.
      cpuCoreShare: cpuSeconds / measured.durationSeconds,
    };
  };
  const gatewayLog = {
    warnLines: gateway.logCounts.warn - logCountsBefore.warn,
    errorLines: gateway.logCounts.error - logCountsBefore.error,
  };
  const machineCores = (name) => (cpuAfter[name] - cpuBefore[name]) / measured.durationSeconds;
  const machine = {
    busyCores: machineCores('machineBusy'),
    stealCores: machineCores('machineSteal'),
    // Everything busy that is not the gateway, the simulator, this harness or wrk: other work on the machine.
    otherProcessesCores: machineCores('machineBusy') - machineCores('gateway') - machineCores('simulator') - machineCores('harness'),
  };
  const result = {
    name: scenario.name,
    description: scenario.description,
    target: scenario.target,
    stream: scenario.stream,
    connections,
    ...measured,
    simulator: usage('simulator'),
    harnessAndLoadGeneratorCores: machineCores('harness'),
    machine,
  };
  if (throughGateway) {
    result.gateway = {
      ...usage('gateway'),
      peakRssMegabytes: readPeakRssMegabytes(gateway.pid),
      peakRssScope,
      rssMegabytesBefore: rssBefore,
      rssMegabytesAfter: readRssMegabytes(gateway.pid),
      log: gatewayLog,
    };
  }
  result.problems = describeProblems(result);
  result.noise = describeNoise(machine);
  return result;
}

function readCpuSnapshot({ gateway, simulator }) {
  const machine = readMachineCpuSeconds();
  return {
    gateway: readCpuSeconds(gateway.pid),
    simulator: readCpuSeconds(simulator.pid),
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
  return problems;
}

/** Why a clean run's figures may still be off: CPU taken by other processes or by the hypervisor. */
function describeNoise(machine) {
  const noise = [];
  if (machine.otherProcessesCores > NOISE_THRESHOLD_CORES) noise.push(`other processes used ${machine.otherProcessesCores.toFixed(2)} cores`);
  if (machine.stealCores > NOISE_THRESHOLD_CORES) noise.push(`hypervisor steal ${machine.stealCores.toFixed(2)} cores`);
  return noise;
}
