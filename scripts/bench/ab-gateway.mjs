// Compares gateway builds or configurations in alternated rounds against one simulator: for each round and each
// variant, a fresh gateway (embedded mode, access log on, NODE_ENV=production, as `pnpm bench` runs it), wrk with
// one connection (the added-latency case) and with 64 (throughput), its p50 and CPU per request. Alternating
// variants within one run is what makes their figures comparable on a shared machine.
// After `pnpm run build`:
//   node scripts/bench/ab-gateway.mjs --variant now=. --variant before=/path/to/other/checkout [--rounds 3] [--duration 5]
//   --variant quiet=.:logging.accessLog=false   (a config line replaced: key path=value of the bench's gateway.yaml)
//   --variant semi8=.:node=--max-semi-space-size=8   (a Node/V8 option for this variant's gateway only)
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

function parseOptions() {
  const { values } = parseArgs({
    options: {
      variant: { type: 'string', multiple: true, default: ['current=.'] },
      rounds: { type: 'string', default: '3' },
      duration: { type: 'string', default: '5' },
      connections: { type: 'string', default: '1,64' },
      stream: { type: 'boolean', default: false },
      'node-arg': { type: 'string', multiple: true, default: [] },
      'keep-output': { type: 'string' },
    },
  });
  const variants = values.variant.map((text) => {
    const [name, spec] = text.split('=', 2).length === 2 ? [text.slice(0, text.indexOf('=')), text.slice(text.indexOf('=') + 1)] : [text, '.'];
    const [root, ...edits] = spec.split(':');
    const nodeArguments = edits.filter((edit) => edit.startsWith('node=')).map((edit) => edit.slice('node='.length));
    return { name, root: resolve(ROOT, root), edits: edits.filter((edit) => !edit.startsWith('node=')), nodeArguments };
  });
  return {
    variants,
    rounds: Number(values.rounds),
    durationSeconds: Number(values.duration),
    connections: values.connections.split(',').map(Number),
    stream: values.stream,
    nodeArguments: values['node-arg'],
    keepOutput: values['keep-output'],
  };
}

/** `section.key=value` edits of the bench's flow-style YAML lines (`logging: { level: info, accessLog: true }`). */
function editConfig(text, edits) {
  let result = text;
  for (const edit of edits) {
    const [path, value] = edit.split('=');
    const [section, key] = path.split('.');
    const line = result.split('\n').find((candidate) => candidate.startsWith(`${section}:`));
    if (line === undefined) {
      result += `${section}: { ${key}: ${value} }\n`;
      continue;
    }
    const replaced = new RegExp(`\\b${key}: [^,}]+`).test(line) ? line.replace(new RegExp(`\\b${key}: [^,}]+`), `${key}: ${value}`) : line.replace(/ }$/, `, ${key}: ${value} }`);
    result = result.replace(line, replaced);
  }
  return result;
}

async function main() {
  const options = parseOptions();
  const wrk = findWrk();
  if (!wrk) throw new Error('wrk is not installed');
  const directory = mkdtempSync(join(os.tmpdir(), 'dosrouter-ab-'));
  const environment = benchEnvironment();
  const results = new Map(options.variants.map((variant) => [variant.name, []]));
  try {
    const simulator = await startServerProcess({
      name: 'simulator',
      script: join(ROOT, 'packages/provider-sim/dist/main.js'),
      args: ['--host', '127.0.0.1', '--port', '0', '--config', writeSimulatorConfig(directory)],
      env: environment,
    });
    console.log(`load average at start ${os.loadavg().map((value) => value.toFixed(2)).join(' ')}`);
    for (let round = 1; round <= options.rounds; round += 1) {
      for (const variant of options.variants) {
        const config = writeGatewayConfig(join(directory, variant.name), simulator.url);
        writeFileSync(config.path, editConfig(readFileSync(config.path, 'utf8'), variant.edits));
        const gateway = await startServerProcess({
          name: 'gateway',
          script: join(variant.root, 'packages/gateway/dist/main.js'),
          args: ['--config', config.path],
          env: { ...environment, PORT: '0', HOST: '127.0.0.1', DOSROUTER_DATA_DIR: join(directory, variant.name, `data-${round}`) },
          nodeArguments: [...options.nodeArguments, ...variant.nodeArguments],
        });
        if (options.keepOutput) gateway.child.stdout.on('data', (text) => appendFileSync(`${options.keepOutput}.${variant.name}.${round}`, text));
        const line = [`round ${round} ${variant.name.padEnd(12)}`];
        for (const connections of options.connections) {
          const load = { url: `${gateway.url}/v1/chat/completions`, body: requestBody(options.stream), headers: { authorization: DEFAULT_AUTHORIZATION }, connections };
          await runWrk(wrk, { ...load, durationSeconds: 2 });
          const cpuBefore = readCpuSeconds(gateway.pid);
          const measured = await runWrk(wrk, { ...load, durationSeconds: options.durationSeconds });
          const cpuMicroseconds = ((readCpuSeconds(gateway.pid) - cpuBefore) * 1e6) / measured.requests;
          results.get(variant.name).push({ connections, p50: measured.latencyMs.p50, rps: measured.requestsPerSecond, cpu: cpuMicroseconds, errors: measured.non2xx });
          line.push(`c${connections}: ${measured.requestsPerSecond.toFixed(0)} req/s p50 ${measured.latencyMs.p50.toFixed(3)} ms ${cpuMicroseconds.toFixed(1)} µs/req${measured.non2xx ? ` non-2xx ${measured.non2xx}` : ''}`);
        }
        line.push(`(load ${os.loadavg()[0].toFixed(2)})`);
        console.log(line.join('  '));
        await stopChild(gateway.child);
      }
    }
    console.log('medians:');
    for (const [name, runs] of results) {
      const parts = options.connections.map((connections) => {
        const of = runs.filter((run) => run.connections === connections);
        const median = (key) => of.map((run) => run[key]).sort((a, b) => a - b)[Math.floor((of.length - 1) / 2)];
        return `c${connections}: ${median('rps').toFixed(0)} req/s p50 ${median('p50').toFixed(3)} ms ${median('cpu').toFixed(1)} µs/req`;
      });
      console.log(`${name.padEnd(12)} ${parts.join('  ')}`);
    }
  } finally {
    await stopAllChildren();
    rmSync(directory, { recursive: true, force: true });
  }
}

main().catch(async (error) => {
  console.error(`ab-gateway: ${error instanceof Error ? error.stack : String(error)}`);
  await stopAllChildren();
  process.exitCode = 1;
});
