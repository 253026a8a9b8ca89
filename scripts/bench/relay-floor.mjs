// The floor of a Node SSE relay, in one run next to nginx and the gateway on the same simulator load: N streams at
// R events/s through each target in turn, the proxy's CPU (from /proc) per event the clients received.
// Targets: nginx (1 worker, proxy_buffering off), floor-undici / floor-raw / floor-h2 (relay-floor-server.mjs: a bare
// node:http relay over undici dispatch, over a raw `onread` socket with a hand-written chunked decoder, over undici
// h2c), gateway and gateway-h2 (the stream scenarios' gateway, HTTP/1.1 and h2c to the simulator), and on request
// gateway-tls and gateway-tls-h2 (the same gateway to a second simulator serving HTTPS with a throwaway self-signed
// certificate, trusted through NODE_EXTRA_CA_CERTS: backends[].http2.mode off, HTTP/1.1 over TLS, and auto, h2 chosen
// in ALPN). Each target is warmed once before it is measured; peak RSS and the most open files seen are reported.
// After `pnpm run build`:
//   NODE_ENV=production node scripts/bench/relay-floor.mjs [--streams 1000] [--duration 20] [--rate 10]
//     [--targets nginx,floor-undici,floor-raw,floor-h2,gateway,gateway-h2,gateway-tls,gateway-tls-h2,gateway-b] [--rounds 1] [--gateway-main PATH]
//     [--compare OTHER/packages/gateway/dist/main.js]   (gateway-b: another build, same config, for an A/B in one run)
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_AUTHORIZATION, writeStreamGatewayConfig, writeStreamSimulatorConfig } from './configs.mjs';
import { readPeakRssMegabytes, resetPeakRss, sumUserSystemSeconds } from './process-usage.mjs';
import { benchEnvironment, startServerProcess, stopAllChildren } from './processes.mjs';
import { runStreamLoadProcess, streamRequestBody, warmUp } from './stream-scenarios.mjs';
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

/** Runs the load; meanwhile samples how many files `pid` holds open (every 250 ms) and resolves with the most seen. */
async function runLoad(url, rate, filesPid) {
  const body = streamRequestBody(rate, seconds);
  let mostOpenFiles = 0;
  const sample = () => {
    try {
      mostOpenFiles = Math.max(mostOpenFiles, readdirSync(`/proc/${filesPid}/fd`).length);
    } catch {
      // Not readable (another user's process): no figure.
    }
  };
  const sampler = setInterval(sample, 250);
  try {
    const load = await runStreamLoadProcess({ url, body, headers: { authorization: DEFAULT_AUTHORIZATION }, streams, intervalMs: 1000 / rate, rampSeconds: 1, timeoutSeconds: seconds + 60 });
    return { ...load, mostOpenFiles };
  } finally {
    clearInterval(sampler);
  }
}

/**
 * The gateway-tls targets: a throwaway self-signed certificate for 127.0.0.1 (openssl), a second simulator serving
 * HTTPS with it (ALPN offering h2 and http/1.1), and two gateways trusting it through NODE_EXTRA_CA_CERTS (the
 * gateway uses the system's CAs for backends), backends[].http2.mode off and auto.
 */
async function startTlsTargets(directory) {
  const tlsDirectory = join(directory, 'tls');
  mkdirSync(tlsDirectory, { recursive: true });
  const certFile = join(tlsDirectory, 'cert.pem');
  const keyFile = join(tlsDirectory, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=bench-simulator', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  const environment = benchEnvironment();
  const simulator = await startServerProcess({
    name: 'tls simulator',
    script: join(ROOT, 'packages/provider-sim/dist/main.js'),
    args: ['--host', '127.0.0.1', '--port', '0', '--config', writeStreamSimulatorConfig(tlsDirectory, rates, { tls: { certFile, keyFile } })],
    env: environment,
  });
  const gateways = {};
  for (const [target, mode] of [['gateway-tls', 'off'], ['gateway-tls-h2', 'auto']]) {
    const config = writeStreamGatewayConfig(join(tlsDirectory, target), simulator.url, rates, { http2: mode });
    gateways[target] = await startServerProcess({
      name: target,
      script: values['gateway-main'] ?? join(ROOT, 'packages/gateway/dist/main.js'),
      args: ['--config', config.path],
      env: { ...environment, PORT: '0', HOST: '127.0.0.1', DOSROUTER_DATA_DIR: join(tlsDirectory, `${target}-data`), NODE_EXTRA_CA_CERTS: certFile },
    });
  }
  const ca = readFileSync(certFile, 'utf8');
  /** The TLS simulator's requests by HTTP version so far (its /_sim/stats). */
  const requestsByHttpVersion = () =>
    new Promise((resolve, reject) => {
      const outgoing = httpsRequest(`${new URL(simulator.url).origin}/_sim/stats`, { ca, agent: false }, (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk) => (text += chunk));
        response.once('end', () => resolve(JSON.parse(text).byHttpVersion));
      });
      outgoing.once('error', reject);
      outgoing.end();
    });
  return { gateways, requestsByHttpVersion };
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
    const tls = targets.some((target) => target.startsWith('gateway-tls')) ? await startTlsTargets(directory) : undefined;
    const proxies = {
      nginx: { url: system.urls.nginx, pids: [system.nginx.process.pid, ...system.nginx.workerPids] },
      gateway: { url: system.urls.gateway, pids: [system.gateway.pid] },
      'gateway-h2': { url: system.urls['gateway-h2'], pids: [system.gatewayH2.pid] },
      ...Object.fromEntries(Object.entries(tls?.gateways ?? {}).map(([target, gateway]) => [target, { url: `${gateway.url}/v1/chat/completions`, pids: [gateway.pid] }])),
      ...Object.fromEntries(Object.entries(floors).map(([mode, server]) => [mode === 'b' ? 'gateway-b' : `floor-${mode}`, { url: `${server.url}/v1/chat/completions`, pids: [server.pid] }])),
    };
    const loadAverage = os.loadavg().map((value) => value.toFixed(2)).join(' ');
    console.log(`relay floor: ${streams} streams × ${rates.join(' and ')} events/s × ${seconds} s, load average at start ${loadAverage}, ${new Date().toISOString()}`);
    console.log('round | target | events/s | done/failed | events | proxy CPU s | µs/event (user + system) | ÷ nginx | peak RSS MB | most open files');
    // Every target warmed once, unmeasured, as the stream scenarios do (a fresh gateway compiles its hot paths first).
    const warmUrls = Object.fromEntries(Object.entries(proxies).map(([target, proxy]) => [target, proxy.url]));
    for (const target of targets) await warmUp({ target, system: { urls: warmUrls }, gateway: { pid: proxies[target].pids[0], url: proxies[target].url.replace(/\/v1\/chat\/completions$/, '') }, authorization: DEFAULT_AUTHORIZATION, eventsPerSecond: rates[0] });
    const rows = [];
    for (let round = 1; round <= Number(values.rounds); round += 1) {
      for (const rate of rates) {
        let nginxPerEvent;
        for (const target of targets) {
          const proxy = proxies[target];
          // nginx's worker holds the connections; the rest are one process each.
          const mainPid = target === 'nginx' ? system.nginx.workerPids[0] : proxy.pids[0];
          resetPeakRss(mainPid);
          const [userBefore, systemBefore] = readPids(proxy.pids);
          const load = await runLoad(proxy.url, rate, mainPid);
          const [userAfter, systemAfter] = readPids(proxy.pids);
          const cpu = userAfter - userBefore + systemAfter - systemBefore;
          const perEvent = (cpu * 1e6) / load.events;
          const split = `${(((userAfter - userBefore) * 1e6) / load.events).toFixed(1)} + ${(((systemAfter - systemBefore) * 1e6) / load.events).toFixed(1)}`;
          if (target === 'nginx') nginxPerEvent = perEvent;
          const ratio = nginxPerEvent ? `${(perEvent / nginxPerEvent).toFixed(2)}×` : '-';
          rows.push({ target, rate, cpu, events: load.events });
          const peakRss = readPeakRssMegabytes(mainPid);
          console.log(`${round} | ${target} | ${rate} | ${load.completed}/${load.failed} | ${load.events} | ${cpu.toFixed(2)} | ${perEvent.toFixed(1)} (${split}) | ${ratio} | ${peakRss?.toFixed(1)} | ${load.mostOpenFiles}`);
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
    if (tls) console.log(`TLS simulator's requests by HTTP version (warm-ups and sanity included): ${JSON.stringify(await tls.requestsByHttpVersion())}`);
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
