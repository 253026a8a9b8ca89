// Child processes that must not outlive the process that started them: each is spawned as the leader of its own
// process group (so a kill reaches its own children too, e.g. nginx's workers) and, while DOSROUTER_PROCESS_REGISTRY
// names a directory (the test run's globalSetup sets it: test/support/child-processes.global.ts), written down there.
// Three things then kill what a test started, whichever way its worker ends:
// - the worker's exit and SIGINT/SIGTERM hooks (killOwnChildrenNow; vitest stops a worker with SIGTERM, where no
//   'exit' handler runs);
// - a watchdog process per spawner (process-watchdog.mjs), which holds a pipe to it and kills its registered children
//   when the pipe closes: a SIGKILLed worker runs no hook at all;
// - the run's global teardown (sweepRegistry), for anything still alive at the end.
// Outside a test run (pnpm cluster, the bench) nothing is written and no watchdog starts.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REGISTRY_VARIABLE = 'DOSROUTER_PROCESS_REGISTRY';
const WATCHDOG_SCRIPT = fileURLToPath(new URL('./process-watchdog.mjs', import.meta.url));

/** The watchdog of this process, started with its first registered child. */
let watchdog;
let hooksInstalled = false;

/**
 * `spawn` in a process group of the child's own (`detached`, which also keeps Ctrl-C in a terminal from reaching it:
 * the spawner decides how its children stop), registered when a registry is set.
 */
export function spawnRegistered(command, args, options = {}) {
  const child = spawn(command, args, { ...options, detached: true });
  registerChild(child.pid);
  return child;
}

/** Writes a child's pid (and the start time that tells it from a later process given the same pid) to the registry. */
export function registerChild(pid) {
  const directory = process.env[REGISTRY_VARIABLE];
  if (!directory || pid === undefined) return;
  appendFileSync(registryFile(directory, process.pid), `${pid} ${startTimeOf(pid) ?? '-'}\n`);
  startWatchdog(directory);
}

/**
 * SIGKILL to the process group of every child this process registered that is still alive; for synchronous exit
 * paths, where nothing can be awaited. Returns the pids it signalled.
 */
export function killOwnChildrenNow() {
  const directory = process.env[REGISTRY_VARIABLE];
  return directory ? killChildrenOf(directory, process.pid) : [];
}

/**
 * Makes this process kill its registered children on exit and on SIGINT, SIGTERM and SIGHUP, then end as the signal
 * would have ended it (unless another handler has taken the signal over). For test workers: vitest ends a worker with
 * SIGTERM (SIGKILL 500 ms later), and a signal's default action runs no 'exit' handler. Not for scripts that stop
 * their children gracefully on a signal (scripts/cluster.mjs). Installed once per process.
 */
export function installExitHooks() {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', () => killOwnChildrenNow());
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    const onSignal = () => {
      killOwnChildrenNow();
      process.off(signal, onSignal);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}
/**
 * SIGKILL to what `spawnerPid` registered, then to what those children registered in turn (a test runs
 * scripts/cluster.mjs, which starts the gateways): the watchdog's job once its spawner is gone.
 */
export function killChildrenOf(directory, spawnerPid) {
  const killed = [];
  const seen = new Set();
  const spawners = [Number(spawnerPid)];
  while (spawners.length > 0) {
    for (const entry of entriesOf(directory, spawners.shift())) {
      if (seen.has(entry.pid)) continue;
      seen.add(entry.pid);
      if (killGroupIfOurs(entry)) killed.push(entry.pid);
      spawners.push(entry.pid);
    }
  }
  return killed;
}

/** SIGKILL to every registered child still alive, whoever started it: the run's global teardown. */
export function sweepRegistry(directory) {
  const killed = [];
  for (const file of readdirSync(directory).filter((name) => name.endsWith('.pids'))) {
    for (const entry of entriesOf(directory, Number(file.slice(0, -'.pids'.length)))) {
      const name = commandNameOf(entry.pid);
      if (killGroupIfOurs(entry)) killed.push({ pid: entry.pid, name });
    }
  }
  return killed;
}

/**
 * Kills the group led by `pid` when it is still the process that was registered: the same start time, or gone while
 * members of its group live on (Linux does not hand out a pid that is still some group's id). Returns whether it
 * signalled anything.
 */
function killGroupIfOurs({ pid, startTime }) {
  const current = statOf(pid);
  if (current !== undefined && startTime !== undefined && current.startTime !== startTime) return false;
  // A zombie leader has ended already (it waits for its parent, or init, to collect it); members of its group may not.
  const ended = current?.state === 'Z';
  let signalled = false;
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
      signalled = true;
    } catch {
      // ESRCH: already gone.
    }
  }
  return signalled && !ended;
}

function entriesOf(directory, spawnerPid) {
  const file = registryFile(directory, spawnerPid);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [pid, startTime] = line.split(' ');
      return { pid: Number(pid), startTime: startTime === '-' ? undefined : startTime };
    });
}

function registryFile(directory, spawnerPid) {
  return join(directory, `${spawnerPid}.pids`);
}

/** A process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat); undefined when gone or not Linux. */
export function startTimeOf(pid) {
  return statOf(pid)?.startTime;
}

/** A process's state letter (field 3, Z for a zombie) and start time (field 22), from /proc/<pid>/stat. */
function statOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], startTime: fields[19] };
  } catch {
    return undefined;
  }
}

function commandNameOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

/**
 * One watchdog per spawner, in its own process group so that a Ctrl-C meant for the spawner does not stop it first.
 * Its stdin is a pipe from this process: the kernel closes it however this process ends. Unreferenced, so that it
 * never keeps this process alive.
 */
function startWatchdog(directory) {
  if (watchdog !== undefined) return;
  watchdog = spawn(process.execPath, [WATCHDOG_SCRIPT, directory, String(process.pid)], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  watchdog.unref();
  watchdog.stdin.on('error', () => undefined);
  watchdog.stdin.unref();
}
