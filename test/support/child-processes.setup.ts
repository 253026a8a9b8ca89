import { installExitHooks } from '../../scripts/cluster/process-registry.mjs';

/**
 * In every test worker: the processes its tests started die with it, on exit and on the SIGTERM vitest ends a worker
 * with; a SIGKILLed worker is left to its watchdog (scripts/cluster/process-registry.mjs).
 */
installExitHooks();
