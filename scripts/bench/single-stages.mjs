// Where the latency of one request in flight goes: the simulator and the gateway (embedded mode, access log on,
// NODE_ENV=production, as `pnpm bench` runs them) both under stage-clock.mjs; wrk with one connection direct to the
// simulator, then through the gateway, alternated for --rounds. Prints wrk's p50 and each process's stage medians.
// After `pnpm run build`:
//   node scripts/bench/single-stages.mjs [--rounds 2] [--duration 10] [--variant now=. --variant before=/other/checkout]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_AUTHORIZATION, writeGatewayConfig, writeSimulatorConfig } from './configs.mjs';
import { findWrk, runWrk } from './load-wrk.mjs';
import { readCpuSeconds } from './process-usage.mjs';
import { benchEnvironment, startServerProcess, stopAllChildren, stopChild } from './processes.mjs';
import { requestBody } from './scenarios.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLOCK = fileURLToPath(new URL('./stage-clock.mjs', import.meta.url));

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '2' }, duration: { type: 'string', default: '10' }, variant: { type: 'string', multiple: true, default: ['current=.'] } },
});
const rounds = Number(values.rounds);
const durationSeconds = Number(values.duration);
const variants = values.variant.map((text) => {
  const at = text.indexOf('=');
  return at === -1 ? { name: text, root: ROOT } : { name: text.slice(0, at), root: resolve(ROOT, text.slice(at + 1)) };
});

function readStages(prefix, pid) {
  const file = readdirSync(prefix.directory).find((name) => name.startsWith(`${prefix.name}.${pid}.`));
  return file ? JSON.parse(readFileSync(join(prefix.directory, file), 'utf8')).stages : {};
}

function print(title, stages) {
  console.log(`  ${title}`);
  for (const [name, { medianMs, count }] of Object.entries(stages)) console.log(`    ${name.padEnd(52)} ${medianMs.toFixed(3)} ms  (${count})`);
}

async function main() {
  const wrk = findWrk();
  if (!wrk) throw new Error('wrk is not installed');
  const directory = mkdtempSync(join(os.tmpdir(), 'dosrouter-stages-'));
  const environment = benchEnvironment({ DOSROUTER_STAGES_OUT: join(directory, 'stages') });
  const prefix = { directory, name: 'stages' };
  const summary = [];
  try {
    console.log(`load average at start ${os.loadavg().map((value) => value.toFixed(2)).join(' ')}`);
    for (let round = 1; round <= rounds; round += 1) for (const { name, root } of variants) {
      const startSimulator = () =>
        startServerProcess({
          name: 'simulator',
          script: join(root, 'packages/provider-sim/dist/main.js'),
          args: ['--host', '127.0.0.1', '--port', '0', '--config', writeSimulatorConfig(directory)],
          env: environment,
          nodeArguments: [`--import=${CLOCK}`],
        });
      const body = requestBody(false);
      const headers = { authorization: DEFAULT_AUTHORIZATION };
      const measure = async (url, pid) => {
        const load = { url: `${url}/v1/chat/completions`, body, headers, connections: 1 };
        await runWrk(wrk, { ...load, durationSeconds: 2 });
        const cpuBefore = readCpuSeconds(pid);
        const measured = await runWrk(wrk, { ...load, durationSeconds });
        return { p50: measured.latencyMs.p50, cpu: ((readCpuSeconds(pid) - cpuBefore) * 1e6) / measured.requests };
      };
      // A simulator of its own for each: the direct one's stages are wrk's requests only.
      const direct = await startSimulator();
      const results = { direct: await measure(direct.url, direct.pid) };
      await stopChild(direct.child);
      const simulator = await startSimulator();
      const config = writeGatewayConfig(join(directory, `gateway-${name}-${round}`), simulator.url);
      const gateway = await startServerProcess({
        name: 'gateway',
        script: join(root, 'packages/gateway/dist/main.js'),
        args: ['--config', config.path],
        env: { ...environment, PORT: '0', HOST: '127.0.0.1', DOSROUTER_DATA_DIR: join(directory, `data-${name}-${round}`) },
        nodeArguments: [`--import=${CLOCK}`],
      });
      results.gateway = await measure(gateway.url, gateway.pid);
      await stopChild(gateway.child);
      await stopChild(simulator.child);
      const added = results.gateway.p50 - results.direct.p50;
      console.log(
        `round ${round} ${name}: direct p50 ${results.direct.p50.toFixed(3)} ms (${results.direct.cpu.toFixed(1)} µs/req simulator), gateway p50 ${results.gateway.p50.toFixed(3)} ms (${results.gateway.cpu.toFixed(1)} µs/req gateway), added ${added.toFixed(3)} ms (load ${os.loadavg()[0].toFixed(2)})`,
      );
      const stages = readStages(prefix, gateway.pid);
      print('simulator, direct', readStages(prefix, direct.pid));
      print('simulator behind the gateway', readStages(prefix, simulator.pid));
      print('gateway', stages);
      summary.push({ name, added, gateway: results.gateway, stages });
    }
    console.log('medians by variant:');
    for (const { name } of variants) {
      const runs = summary.filter((run) => run.name === name);
      const median = (values) => values.sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];
      const stage = (key) => median(runs.map((run) => run.stages[key]?.medianMs ?? NaN)).toFixed(3);
      console.log(
        `  ${name}: added p50 ${median(runs.map((run) => run.added)).toFixed(3)} ms, gateway p50 ${median(runs.map((run) => run.gateway.p50)).toFixed(3)} ms, ` +
          `${median(runs.map((run) => run.gateway.cpu)).toFixed(1)} µs/req; parsed → upstream created ${stage('request parsed → upstream request created')}, ` +
          `→ end returned ${stage('request parsed → response end returned')} ms; end returned → next parsed ${stage('response end returned → next request parsed')} ms`,
      );
    }
  } finally {
    await stopAllChildren();
    rmSync(directory, { recursive: true, force: true });
  }
}

main().catch(async (error) => {
  console.error(`single-stages: ${error instanceof Error ? error.stack : String(error)}`);
  await stopAllChildren();
  process.exitCode = 1;
});
