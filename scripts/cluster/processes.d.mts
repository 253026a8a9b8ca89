// Types of processes.mjs, for the TypeScript tests that import it.
import type { ChildProcess } from 'node:child_process';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcessOptions {
  name: string;
  command: string;
  args: string[];
  environment: NodeJS.ProcessEnv;
  cwd: string;
  /** Stdout and stderr are appended here. */
  logFile?: string;
  /** Keep stdout lines in `lines`. */
  keepLines?: boolean;
}

export class ManagedProcess {
  constructor(options: ManagedProcessOptions);
  readonly name: string;
  readonly pid: number | undefined;
  readonly child: ChildProcess;
  /** stdout lines, when started with keepLines. */
  readonly lines: string[];
  readonly stderrTail: string;
  readonly exit: ProcessExit | undefined;
  readonly exited: Promise<ProcessExit>;
  readonly running: boolean;
  ready: boolean;
  stopping: boolean;
  waitForLine(matches: (line: string) => boolean, timeoutMs: number): Promise<string>;
  signal(signal: NodeJS.Signals): void;
  stop(options?: { signal?: NodeJS.Signals; timeoutMs?: number }): Promise<ProcessExit>;
  /** SIGKILL to the process and its process group. */
  killGroup(): void;
}

export class ProcessExitError extends Error {
  readonly stderr: string;
}

export function killAllProcessesNow(): void;
export function freePort(host?: string): Promise<number>;
export function httpStatus(url: string, timeoutMs?: number): Promise<number>;
export function waitForHttpOk(url: string, process: ManagedProcess, timeoutMs: number): Promise<void>;
export function findExecutable(name: string, override?: string): string;
