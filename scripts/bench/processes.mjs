import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { killAllProcessesNow } from '../cluster/processes.mjs';

/** Every child the harness started and has not yet seen exit, so that any way out (error, Ctrl-C) can stop them. */
const runningChildren = new Set();

/**
 * Ways to stop what the harness started through other modules (the cluster topologies): `stop` is awaited by
 * stopAllChildren before the harness's own children go, `killNow` runs from the synchronous 'exit' handler.
 */
const stopHooks = new Set();

/** Log markers of the gateway's JSON lines, counted without parsing them. */
export const GATEWAY_LOG_MARKERS = { warn: ['"level":"warn"'], error: ['"level":"error"'] };

/** How long a child gets to exit after SIGTERM before SIGKILL. The gateway drains idle connections at once. */
const STOP_GRACE_MS = 5_000;

/** Waiting longer than this for a "listening" line means the process is stuck, not slow. */
const START_TIMEOUT_MS = 15_000;

/** Starts a child process and remembers it until it exits. */
export function spawnTracked(command, args, options) {
  const child = spawn(command, args, options);
  runningChildren.add(child);
  child.once('exit', () => runningChildren.delete(child));
  return child;
}

/**
 * The environment of the processes a benchmark starts: production mode, `extra` added, and neither REDIS_URL (the
 * gateway refuses to start in embedded mode with it) nor DOSROUTER_CONFIG (it must not pick up another config).
 */
export function benchEnvironment(extra = {}) {
  const environment = { ...process.env, NODE_ENV: 'production', ...extra };
  delete environment.REDIS_URL;
  delete environment.DOSROUTER_CONFIG;
  return environment;
}

/**
 * Starts a Node server process and resolves once it prints a JSON line with a `url` field (the simulator and the
 * gateway both announce themselves that way). Its stdout is then read and discarded for as long as it runs, so that
 * the pipe never fills and the access log keeps costing what it costs in production; warn and error lines are
 * counted, because a server that misbehaves under load usually says so there.
 */
export async function startServerProcess({ name, script, args, env, nodeArguments = [] }) {
  const child = spawnTracked(process.execPath, [...nodeArguments, script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const server = {
    name,
    child,
    pid: child.pid,
    url: undefined,
    exit: undefined,
    stderrTail: '',
    logCounts: { warn: 0, error: 0 },
    firstProblemLines: [],
  };
  child.once('exit', (code, signal) => {
    server.exit = { code, signal };
  });

  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text) => {
    server.stderrTail = (server.stderrTail + text).slice(-4_000);
  });

  let pending = '';
  const announced = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} printed no "listening" line with a url within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    const onEarlyExit = (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited before it was listening (code ${code}, signal ${signal}). stderr:\n${server.stderrTail}`));
    };
    child.once('close', onEarlyExit);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', function readUntilListening(text) {
      pending += text;
      let newline;
      while (server.url === undefined && (newline = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        const url = urlFromLogLine(line);
        if (url !== undefined) {
          server.url = url;
          clearTimeout(timer);
          child.off('close', onEarlyExit);
          child.stdout.off('data', readUntilListening);
          let partialLine = pending;
          child.stdout.on('data', (chunk) => {
            partialLine = countLevels(server, partialLine + chunk, GATEWAY_LOG_MARKERS);
          });
          resolve();
        }
      }
    });
  });
  await announced;
  return server;
}

function urlFromLogLine(line) {
  try {
    const record = JSON.parse(line);
    return typeof record.url === 'string' ? record.url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Counts the warn and error lines of a stream that some other code already reads (a cluster topology's process):
 * a second 'data' listener on a stream whose encoding is set to utf8. `markers` maps each level to the substrings
 * that mark it. Returns the counts, kept up to date while the stream flows.
 */
export function watchLogLevels(stream, markers) {
  const watched = { logCounts: { warn: 0, error: 0 }, firstProblemLines: [] };
  let partialLine = '';
  stream.on('data', (chunk) => {
    partialLine = countLevels(watched, partialLine + chunk, markers);
  });
  return watched;
}

/**
 * Counts complete log lines by level without parsing them: a substring scan stays cheap at thousands of lines a
 * second. Returns the unfinished last line, to be prepended to the next chunk.
 */
function countLevels(server, text, markers) {
  const lastNewline = text.lastIndexOf('\n');
  const complete = text.slice(0, lastNewline + 1);
  for (const [level, levelMarkers] of Object.entries(markers)) {
    for (const marker of levelMarkers) {
      for (let index = complete.indexOf(marker); index !== -1; index = complete.indexOf(marker, index + marker.length)) {
        server.logCounts[level] += 1;
        if (server.firstProblemLines.length < 5) {
          const start = complete.lastIndexOf('\n', index) + 1;
          server.firstProblemLines.push(complete.slice(start, complete.indexOf('\n', index)).slice(0, 500));
        }
      }
    }
  }
  // A single line longer than this is not a log line worth keeping whole; dropping it bounds memory.
  const rest = text.slice(lastNewline + 1);
  return rest.length > 1_000_000 ? '' : rest;
}

/** SIGTERM, then SIGKILL after the grace period. Resolves when the child has exited. */
export async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/**
 * Registers a way to stop something started outside spawnTracked (a cluster topology): `stop` is awaited, `killNow`
 * must be synchronous. Returns the function that unregisters it, for when it was stopped the ordinary way.
 */
export function addStopHook(hook) {
  stopHooks.add(hook);
  return () => stopHooks.delete(hook);
}

/**
 * Stops the cluster topologies first (their replicas drain, then nginx, then redis-server), so that no replica loses
 * the simulator under a request it still serves, then the harness's own children.
 */
export async function stopAllChildren() {
  await Promise.allSettled([...stopHooks].map((hook) => hook.stop()));
  await Promise.all([...runningChildren].map((child) => stopChild(child)));
}

/** Last resort from a synchronous 'exit' handler: no waiting is possible there, so only signals are sent. */
export function killAllChildrenNow() {
  for (const hook of stopHooks) hook.killNow();
  // Every redis-server, replica and nginx master that scripts/cluster/processes.mjs started and saw running.
  killAllProcessesNow();
  for (const child of runningChildren) child.kill('SIGKILL');
}
