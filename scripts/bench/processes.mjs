import { spawn } from 'node:child_process';
import { once } from 'node:events';

/** Every child the harness started and has not yet seen exit, so that any way out (error, Ctrl-C) can stop them. */
const runningChildren = new Set();

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
 * Starts a Node server process and resolves once it prints a JSON line with a `url` field (the simulator and the
 * gateway both announce themselves that way). Its stdout is then read and discarded for as long as it runs, so that
 * the pipe never fills and the access log keeps costing what it costs in production; warn and error lines are
 * counted, because a server that misbehaves under load usually says so there.
 */
export async function startServerProcess({ name, script, args, env }) {
  const child = spawnTracked(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
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
            partialLine = countLevels(server, partialLine + chunk);
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
 * Counts complete log lines by level without parsing JSON: a substring scan stays cheap at thousands of lines a
 * second. Returns the unfinished last line, to be prepended to the next chunk.
 */
function countLevels(server, text) {
  const lastNewline = text.lastIndexOf('\n');
  const complete = text.slice(0, lastNewline + 1);
  for (const level of ['warn', 'error']) {
    const marker = `"level":"${level}"`;
    for (let index = complete.indexOf(marker); index !== -1; index = complete.indexOf(marker, index + marker.length)) {
      server.logCounts[level] += 1;
      if (server.firstProblemLines.length < 5) {
        const start = complete.lastIndexOf('\n', index) + 1;
        server.firstProblemLines.push(complete.slice(start, complete.indexOf('\n', index)).slice(0, 500));
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

export async function stopAllChildren() {
  await Promise.all([...runningChildren].map((child) => stopChild(child)));
}

/** Last resort from a synchronous 'exit' handler: no waiting is possible there, so only signals are sent. */
export function killAllChildrenNow() {
  for (const child of runningChildren) child.kill('SIGKILL');
}
