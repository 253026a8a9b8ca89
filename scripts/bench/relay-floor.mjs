// The floor of a Node SSE relay, in one run next to nginx and the gateway on the same simulator load: N streams at
// R events/s through each target in turn, the proxy's CPU (from /proc) per event the clients received.
// Targets: nginx (1 worker, proxy_buffering off), floor-undici / floor-raw / floor-h2 (relay-floor-server.mjs: a bare
// node:http relay over undici dispatch, over a raw `onread` socket with a hand-written chunked decoder, over undici
// h2c), gateway and gateway-h2 (the stream scenarios' gateway, HTTP/1.1 and h2c to the simulator).
// After `pnpm run build`:
//   NODE_ENV=production node scripts/bench/relay-floor.mjs [--streams 1000] [--duration 20] [--rate 10]
//     [--targets nginx,floor-undici,floor-raw,floor-h2,gateway,gateway-h2,gateway-b] [--rounds 1] [--gateway-main PATH]
//     [--compare OTHER/packages/gateway/dist/main.js]   (gateway-b: another build, same config, for an A/B in one run)
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_AUTHORIZATION } from './configs.mjs';
import { sumUserSystemSeconds } from './process-usage.mjs';
import { startServerProcess, stopAllChildren } from './processes.mjs';
import { runStreamLoadProcess, streamRequestBody } from './stream-scenarios.mjs';
import { startStreamSystem } from './stream-system.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FLOOR_SERVER_SCRIPT = fileURLToPath(new URL('./relay-floor-server.mjs', import.meta.url));
const ALL_TARGETS = ['nginx', 'floor-undici', 'floor-raw', 'floor-h2', 'gateway', 'gateway-h2'];

const { values } = parseArgs({
  options: {
    streams: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '20' },
    // Several (--rate 2,10): every target at each rate in turn, the same streams and duration; the difference between
    // two rates is the cost per event, the per-stream and per-second costs cancelled out.
    rate: { type: 'string', default: '10' },
    targets: { type: 'string', default: ALL_TARGETS.join(',') },
    rounds: { type: 'string', default: '1' },
    'gateway-main': { type: 'string' },
    // Another build's gateway main.js, run next to this one with the same config: the target gateway-b (an A/B).
    compare: { type: 'string' },
  },
});
const streams = Number(values.streams);
const seconds = Number(values.duration);
const rates = values.rate.split(',').map(Number);
const targets = values.targets.split(',');

function readPids(pids) {
  const { user, system } = sumUserSystemSeconds(pids);
  return [user, system];
}

function runLoad(url, rate) {
  const body = streamRequestBody(rate, seconds);
  return runStreamLoadProcess({ url, body, headers: { authorization: DEFAULT_AUTHORIZATION }, streams, intervalMs: 1000 / rate, rampSeconds: 1, timeoutSeconds: seconds + 60 });
}

async function main() {
  const directory = mkdtempSync(join(os.tmpdir(), 'dosrouter-floor-'));
  try {
    const system = await startStreamSystem({
      directory,
      rates,
      simulatorMain: join(ROOT, 'packages/provider-sim/dist/main.js'),
      gatewayMain: values['gateway-main'] ?? join(ROOT, 'packages/gateway/dist/main.js'),
    });
    const floors = {};
    for (const mode of ['undici', 'raw', 'h2']) {
      if (!targets.includes(`floor-${mode}`)) continue;
      floors[mode] = await startServerProcess({
        name: `floor ${mode}`,
        script: FLOOR_SERVER_SCRIPT,
        args: ['--mode', mode, '--upstream', system.simulator.url],
        env: { ...process.env, NODE_ENV: 'production' },
      });
    }
    if (values.compare) {
      floors.b = await startServerProcess({
        name: 'gateway b',
        script: values.compare,
        args: ['--config', system.gatewayConfig.path],
        env: { ...process.env, NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', DOSROUTER_DATA_DIR: join(directory, 'gateway-b-data') },
      });
    }
    const proxies = {
      nginx: { url: system.urls.nginx, pids: [system.nginx.process.pid, ...system.nginx.workerPids] },
      gateway: { url: system.urls.gateway, pids: [system.gateway.pid] },
      'gateway-h2': { url: system.urls['gateway-h2'], pids: [system.gatewayH2.pid] },
      ...Object.fromEntries(Object.entries(floors).map(([mode, server]) => [mode === 'b' ? 'gateway-b' : `floor-${mode}`, { url: `${server.url}/v1/chat/completions`, pids: [server.pid] }])),
    };
    const loadAverage = os.loadavg().map((value) => value.toFixed(2)).join(' ');
    console.log(`relay floor: ${streams} streams × ${rates.join(' and ')} events/s × ${seconds} s, load average at start ${loadAverage}, ${new Date().toISOString()}`);
    console.log('round | target | events/s | done/failed | events | proxy CPU s | µs/event (user + system) | ÷ nginx');
    const rows = [];
    for (let round = 1; round <= Number(values.rounds); round += 1) {
      for (const rate of rates) {
        let nginxPerEvent;
        for (const target of targets) {
          const proxy = proxies[target];
          const [userBefore, systemBefore] = readPids(proxy.pids);
          const load = await runLoad(proxy.url, rate);
          const [userAfter, systemAfter] = readPids(proxy.pids);
          const cpu = userAfter - userBefore + systemAfter - systemBefore;
          const perEvent = (cpu * 1e6) / load.events;
          const split = `${(((userAfter - userBefore) * 1e6) / load.events).toFixed(1)} + ${(((systemAfter - systemBefore) * 1e6) / load.events).toFixed(1)}`;
          if (target === 'nginx') nginxPerEvent = perEvent;
          const ratio = nginxPerEvent ? `${(perEvent / nginxPerEvent).toFixed(2)}×` : '-';
          rows.push({ target, rate, cpu, events: load.events });
          console.log(`${round} | ${target} | ${rate} | ${load.completed}/${load.failed} | ${load.events} | ${cpu.toFixed(2)} | ${perEvent.toFixed(1)} (${split}) | ${ratio}`);
          await new Promise((resolve) => setTimeout(resolve, 2_000));
        }
      }
    }
    if (rates.length >= 2) {
      // The lowest and the highest rate, every round summed: CPU per extra event, and what is left per stream.
      const [low, high] = [Math.min(...rates), Math.max(...rates)];
      const sum = (target, rate, field) => rows.filter((row) => row.target === target && row.rate === rate).reduce((total, row) => total + row[field], 0);
      const runs = (target, rate) => rows.filter((row) => row.target === target && row.rate === rate).length;
      console.log(`\ntarget | marginal µs/event (${low} → ${high} events/s) | µs per stream (the rest, over ${seconds} s)`);
      for (const target of targets) {
        const marginal = (sum(target, high, 'cpu') - sum(target, low, 'cpu')) / (sum(target, high, 'events') - sum(target, low, 'events'));
        const perStream = (sum(target, low, 'cpu') - marginal * sum(target, low, 'events')) / (streams * runs(target, low));
        console.log(`${target} | ${(marginal * 1e6).toFixed(1)} | ${(perStream * 1e6).toFixed(0)}`);
      }
    }
    console.log(`load average at end ${os.loadavg().map((value) => value.toFixed(2)).join(' ')}`);
    await system.close();
  } finally {
    await stopAllChildren();
    rmSync(directory, { recursive: true, force: true });
  }
}

main().catch(async (error) => {
  console.error(`relay-floor: ${error instanceof Error ? error.stack : String(error)}`);
  await stopAllChildren();
  process.exit(1);
});
