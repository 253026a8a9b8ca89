import { readFileSync } from 'node:fs';
import { connect } from 'node:net';

/**
 * Whether a process with this pid is running (signal 0 only checks). A zombie is not: it has ended, and waits for a
 * parent to collect its status; an orphan's waits for init, which may take seconds in a container.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    // No /proc (not Linux): signal 0 is all there is.
    return true;
  }
}

/** Sends Redis a PING over a plain socket; resolves true on +PONG, false when it cannot be reached. */
export function redisAnswers(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const finish = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => finish(data.toString().startsWith('+PONG')));
  });
}

/** Runs one command with redis-cli against 127.0.0.1:`port`; resolves with its output lines. */
export async function redisCli(port: number, ...command: string[]): Promise<string[]> {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { stdout } = await promisify(execFile)('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...command]);
  return stdout.split('\n').filter((line) => line !== '');
}
