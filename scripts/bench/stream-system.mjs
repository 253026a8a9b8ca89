// What the stream scenarios load: their own provider simulator (one model per event rate), the gateway in embedded
// mode with that simulator as its one backend, and nginx (1 worker, proxy_buffering off) in front of the same
// simulator as the reference proxy. Started when the first stream scenario comes up, stopped after the last.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderNginxConfig } from '../cluster/nginx-config.mjs';
import { findExecutable, freePort, ManagedProcess, waitForHttpOk } from '../cluster/processes.mjs';
import { DEFAULT_AUTHORIZATION, streamModelName, writeStreamGatewayConfig, writeStreamSimulatorConfig } from './configs.mjs';
import { childPids } from './process-usage.mjs';
import { addStopHook, benchEnvironment, startServerProcess, stopChild, watchLogLevels } from './processes.mjs';

/** nginx writes these levels to stderr (error_log stderr warn); anything from [error] up is a failed request or worse. */
const NGINX_LOG_MARKERS = { warn: ['[warn]'], error: ['[error]', '[crit]', '[alert]', '[emerg]'] };

/**
 * Open files every process of a stream run should have: a proxied stream holds two sockets (client and upstream), so
 * 10,000 streams need 20,000 and a little more. Where the hard limit is lower and this process may not raise it (no
 * CAP_SYS_RESOURCE), the processes keep the hard limit and the result says so.
 */
export const WANTED_OPEN_FILES = 65_536;

/** The open-file limits (soft, hard) of a process, from /proc/<pid>/limits. */
export function readOpenFileLimit(pid) {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((entry) => entry.startsWith('Max open files'));
  const [soft, hard] = line.slice('Max open files'.length).trim().split(/\s+/).map(Number);
  return { soft, hard };
}

/**
 * Raises the open-file limit of a running process with prlimit(1), to WANTED_OPEN_FILES or, when that is refused,
 * to its hard limit. Returns the limit it ends up with and, when the wanted one was refused, why. Called on the
 * harness itself before the stream system starts, so that every process it starts (simulator, gateways, nginx, the
 * load generators) inherits the limit from its first socket on.
 */
export function raiseOpenFileLimit(pid) {
  let refused;
  try {
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${WANTED_OPEN_FILES}:${WANTED_OPEN_FILES}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    refused = String(error.stderr ?? error.message).trim();
    const { hard } = readOpenFileLimit(pid);
    try {
      execFileSync('prlimit', ['--pid', String(pid), `--nofile=${hard}:${hard}`], { stdio: 'ignore' });
    } catch {
      // The soft limit stays where it was; the result reports it.
    }
  }
  return { ...readOpenFileLimit(pid), refused };
}

/**
 * Starts the stream system under `directory` for the given event rates (events per second, one simulator model
 * each). Returns what the stream runner measures, and `close()`.
 */
export async function startStreamSystem({ directory, rates, simulatorMain, gatewayMain }) {
  const runDirectory = join(directory, 'streams');
  mkdirSync(runDirectory, { recursive: true });
  const environment = benchEnvironment();
  const harnessLimit = raiseOpenFileLimit(process.pid);
  const fileLimits = {};
  const stopped = [];

  const simulator = await startServerProcess({
    name: 'stream simulator',
    script: simulatorMain,
    args: ['--host', '127.0.0.1', '--port', '0', '--config', writeStreamSimulatorConfig(runDirectory, rates)],
    env: environment,
  });
  stopped.push(() => stopChild(simulator.child));
  fileLimits.simulator = { ...readOpenFileLimit(simulator.pid), refused: harnessLimit.refused };

  const gatewayConfig = writeStreamGatewayConfig(join(runDirectory, 'gateway'), simulator.url, rates);
  const startGateway = async (name, config) => {
    // Each gateway its own data directory (DOSROUTER_DATA_DIR, where embedded mode keeps journals): two gateways may
    // not share one, and none is left behind.
    const dataDirectory = join(runDirectory, `${name.replaceAll(' ', '-')}-data`);
    const gateway = await startServerProcess({
      name,
      script: gatewayMain,
      args: ['--config', config.path],
      env: { ...environment, PORT: '0', HOST: '127.0.0.1', DOSROUTER_DATA_DIR: dataDirectory },
    });
    stopped.push(() => stopChild(gateway.child));
    fileLimits[name] = { ...readOpenFileLimit(gateway.pid), refused: harnessLimit.refused };
    return gateway;
  };
  const gateway = await startGateway('stream gateway', gatewayConfig);
  // The same gateway with HTTP/2 to the simulator (h2c, backends[].http2.mode on): the gateway-h2 target.
  const gatewayH2Config = writeStreamGatewayConfig(join(runDirectory, 'gateway-h2'), simulator.url, rates, { http2: 'on' });
  const gatewayH2 = await startGateway('stream gateway h2', gatewayH2Config);

  const nginx = await startNginx({ runDirectory, simulatorUrl: simulator.url });
  const removeStopHook = addStopHook({ stop: () => nginx.process.stop({ signal: 'SIGQUIT', timeoutMs: 5_000 }), killNow: () => nginx.workerPids.forEach(killQuietly) });
  stopped.unshift(async () => {
    await nginx.process.stop({ signal: 'SIGQUIT', timeoutMs: 5_000 });
    removeStopHook();
  });
  fileLimits.nginx = { ...readOpenFileLimit(nginx.workerPids[0]), refused: harnessLimit.refused };
  fileLimits['load generator'] = { ...harnessLimit };

  const system = {
    simulator,
    gateway,
    gatewayConfig,
    gatewayH2,
    nginx,
    fileLimits,
    urls: {
      direct: `${simulator.url}/chat/completions`,
      nginx: `${nginx.url}/v1/chat/completions`,
      gateway: `${gateway.url}/v1/chat/completions`,
      'gateway-h2': `${gatewayH2.url}/v1/chat/completions`,
    },
    startGateway,
    describe: () => ({
      description: 'stream scenarios: their own simulator, the gateway in embedded mode (one replica, no Redis), and nginx (1 worker) in front of the simulator',
      simulator: { url: simulator.url, pid: simulator.pid },
      gateway: { url: gateway.url, pid: gateway.pid },
      gatewayConfig: gatewayConfig.text,
      gatewayH2: { url: gatewayH2.url, pid: gatewayH2.pid },
      gatewayH2Config: gatewayH2Config.text,
      nginx: { url: nginx.url, masterPid: nginx.process.pid, workerPids: nginx.workerPids, config: nginx.configText },
      openFileLimits: fileLimits,
    }),
    close: async () => {
      for (const stop of stopped) await stop();
    },
  };
  await checkStreamSanity(system, rates[0]);
  return system;
}

/**
 * nginx with the cluster's config (scripts/cluster/nginx-config.mjs), 1 worker, its one upstream the simulator: the
 * reference proxy of the stream scenarios and of the short-request ones (bench.mjs).
 */
export async function startNginx({ runDirectory, simulatorUrl, name = 'stream nginx' }) {
  const directory = join(runDirectory, 'nginx');
  mkdirSync(directory, { recursive: true });
  const port = await freePort('127.0.0.1');
  const { hard } = readOpenFileLimit(process.pid);
  const openFiles = Math.min(WANTED_OPEN_FILES, hard);
  const configText = renderNginxConfig({
    target: 'local',
    listen: `127.0.0.1:${port}`,
    upstreams: [new URL(simulatorUrl).host],
    user: process.getuid?.() === 0 ? 'root' : undefined,
    workerProcesses: 1,
    // Every stream is two connections; the worker may hold as many as it may open files.
    workerConnections: openFiles,
    workerRlimitNofile: openFiles,
  });
  const configPath = join(directory, 'nginx.conf');
  writeFileSync(configPath, configText);
  const managed = new ManagedProcess({
    name,
    command: findExecutable('nginx', process.env.NGINX),
    args: ['-p', `${directory}/`, '-c', configPath, '-e', 'stderr'],
    environment: process.env,
    cwd: directory,
    logFile: join(runDirectory, 'nginx-error.log'),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttpOk(`${url}/nginx-health`, managed, 15_000);
  managed.ready = true;
  return {
    process: managed,
    url,
    configText,
    workerPids: childPids(managed.pid),
    log: watchLogLevels(managed.child.stderr, NGINX_LOG_MARKERS),
  };
}

function killQuietly(pid) {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** One short stream each way must end with [DONE] before anything is measured. */
async function checkStreamSanity(system, rate) {
  for (const [target, url] of Object.entries(system.urls)) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: DEFAULT_AUTHORIZATION },
      body: JSON.stringify({ model: streamModelName(rate), stream: true, max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const text = await response.text();
    if (response.status !== 200 || !text.includes('data: [DONE]')) {
      throw new Error(`stream sanity check (${target}): ${url} answered ${response.status} without "data: [DONE]": ${text.slice(0, 500)}`);
    }
  }
}
