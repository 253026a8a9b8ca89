// The watchdog of one spawner (see process-registry.mjs): started with a pipe from the spawner on stdin, it waits for
// that pipe to close, which happens however the spawner ends (exit, signal, SIGKILL, OOM kill), then kills every child
// the spawner registered, and their registered children, and exits.
// Usage: node process-watchdog.mjs <registry directory> <spawner pid>
import { killChildrenOf } from './process-registry.mjs';

const [directory, spawnerPid] = process.argv.slice(2);
process.stdin.on('data', () => undefined);
process.stdin.once('close', () => {
  killChildrenOf(directory, Number(spawnerPid));
  process.exit(0);
});
