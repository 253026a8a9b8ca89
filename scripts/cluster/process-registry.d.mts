// Types of process-registry.mjs, for the TypeScript tests that import it.
import type { ChildProcess, SpawnOptions } from 'node:child_process';

export const REGISTRY_VARIABLE: 'DOSROUTER_PROCESS_REGISTRY';
export function spawnRegistered(command: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
export function registerChild(pid: number | undefined): void;
export function installExitHooks(): void;
export function killOwnChildrenNow(): number[];
export function killChildrenOf(directory: string, spawnerPid: number): number[];
export function sweepRegistry(directory: string): { pid: number; name: string }[];
export function startTimeOf(pid: number): string | undefined;
