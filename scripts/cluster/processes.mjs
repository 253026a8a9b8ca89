// Child processes of the cluster topology (redis-server, gateway replicas, nginx): started with their output kept,
// watched until ready, stopped with a signal and a deadline. Used by scripts/cluster.mjs and the tests' harness.
import { createWriteStream, existsSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { spawnRegistered } from './process-registry.mjs';

/** Every child started here and not yet exited, so that any way out can still stop them. */
const liveProcesses = new Set();

/** How much of a process's stderr is kept for error messages. */
const STDERR_TAIL_CHARACTERS = 4_000;

/**
 * A child process whose output is kept: appended to a log file (when given) and, with `keepLines`, held in memory
 * line by line for tests that read access logs. Stdout and stderr are always read, so a chatty child never blocks on
 * a full pipe.
 */
export class ManagedProcess {
  constructor({ name, command, args, environment, cwd, logFile, keepLines = false }) {
    this.name = name;
    this.lines = [];
    this.stderrTail = '';
    this.exit = undefined;
    /** Set by the starter once the process answers; an exit before that is the starter's error, not a crash. */
    this.ready = false;
    /** Set before a deliberate signal, so that the exit that follows is not reported as unexpected. */
    this.stopping = false;
    this.lineListeners = new Set();
    // Own process group: Ctrl-C in a terminal reaches the supervising script only, which then stops the children in
    // order (gateways drain first) instead of all of them at once; a kill of the group reaches the child's own
    // children (nginx's workers). Registered for the test run's clean-up when one is running (process-registry.mjs).
    this.child = spawnRegistered(command, args, { cwd, env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
    this.pid = this.child.pid;
    liveProcesses.add(this);
    const log = logFile === undefined ? undefined : createWriteStream(logFile, { flags: 'a' });
    // A copy of the output for the test run's secret scan (test/support/log-scan.global.ts), when one is running.
    const archive = process.env.DOSROUTER_LOG_ARCHIVE ? createWriteStream(join(process.env.DOSROUTER_LOG_ARCHIVE, `${name}-${this.pid}.log`), { flags: 'a' }) : undefined;
    this.exited = new Promise((resolve) => {
      this.child.once('error', (error) => {
        this.stderrTail += `${error.message}\n`;
      });
      this.child.once('close', (code, signal) => {
        liveProcesses.delete(this);
        this.exit = { code, signal };
        log?.end();
        archive?.end();
        resolve(this.exit);
      });
    });
    let pending = '';
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (text) => {
      log?.write(text);
      archive?.write(text);
      pending += text;
      let newline;
      while ((newline = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (keepLines) this.lines.push(line);
        for (const listener of this.lineListeners) listener(line);
      }
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (text) => {
      log?.write(text);
      archive?.write(text);
      this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL_CHARACTERS);
      for (const line of text.split('\n')) if (line) for (const listener of this.lineListeners) listener(line);
    });
  }

  get running() {
    return this.exit === undefined;
  }

  /** Resolves with the first output line (stdout or stderr) that matches; rejects on exit or after the deadline. */
  waitForLine(matches, timeoutMs) {
    return new Promise((resolve, reject) => {
      const finish = (settle) => {
        clearTimeout(timer);
        this.lineListeners.delete(onLine);
        this.child.off('close', onClose);
        settle();
      };
      const onLine = (line) => {
        if (matches(line)) finish(() => resolve(line));
      };
      const onClose = (code, signal) =>
        finish(() => reject(new ProcessExitError(this, `${this.name} exited (code ${code}, signal ${signal}) before it was ready`)));
      const timer = setTimeout(() => finish(() => reject(new Error(`${this.name} was not ready within ${timeoutMs} ms`))), timeoutMs);
      if (!this.running) return onClose(this.exit.code, this.exit.signal);
      this.lineListeners.add(onLine);
      this.child.once('close', onClose);
    });
  }

  /** Sends a signal without waiting; the exit it causes is expected. */
  signal(signal) {
    this.stopping = true;
    if (this.running) this.child.kill(signal);
  }

  /** Sends `signal`, then SIGKILL if the process is still there after `timeoutMs`. Resolves with how it exited. */
  async stop({ signal = 'SIGTERM', timeoutMs = 10_000 } = {}) {
    this.stopping = true;
    if (!this.running) return this.exit;
    this.child.kill(signal);
    const timer = setTimeout(() => this.killGroup(), timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  /** SIGKILL to the process and its process group: nothing it started outlives it. */
  killGroup() {
    this.stopping = true;
    if (this.pid === undefined) return;
    for (const target of [-this.pid, this.pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

/** A process that exited while it was awaited; `stderr` is the tail of what it printed there. */
export class ProcessExitError extends Error {
  constructor(process, message) {
    super(process.stderrTail.trim() ? `${message}:\n${process.stderrTail.trim()}` : message);
    this.name = 'ProcessExitError';
    this.stderr = process.stderrTail;
  }
}

/** Last resort from a synchronous exit path: signals only, nothing can be awaited there. */
export function killAllProcessesNow() {
  for (const managed of liveProcesses) managed.killGroup();
}

/** A TCP port that was free a moment ago on `host` (the OS picks it; a small race remains until it is bound). */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** GET `url` on a fresh connection (no keep-alive left behind); resolves with the status, or 0 when unreachable. */
export function httpStatus(url, timeoutMs = 1_000) {
  return new Promise((resolve) => {
    const outgoing = request(url, { agent: false, timeout: timeoutMs }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    outgoing.once('timeout', () => outgoing.destroy());
    outgoing.once('error', () => resolve(0));
    outgoing.end();
  });
}

/** Polls `url` until it answers 200, the process exits, or the deadline passes. */
export async function waitForHttpOk(url, process, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!process.running) throw new ProcessExitError(process, `${process.name} exited (code ${process.exit.code}, signal ${process.exit.signal}) before ${url} answered 200`);
    if ((await httpStatus(url)) === 200) return;
    if (Date.now() > deadline) throw new Error(`${url} (${process.name}) did not answer 200 within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Finds an executable: the environment variable `override` when set, else the first match on PATH, else the usual
 * sbin locations (Debian puts nginx in /usr/sbin, which is not on a normal user's PATH).
 */
export function findExecutable(name, override) {
  if (override) return override;
  const directories = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const directory of directories) {
    if (directory && existsSync(join(directory, name))) return join(directory, name);
  }
  throw new Error(`${name} is not installed (looked on PATH and in /usr/sbin); on Debian: apt-get install -y ${name === 'nginx' ? 'nginx-light' : 'redis-server'}`);
}
