import { setTimeout as delay } from 'node:timers/promises';

/**
 * Polls `check` (every 20 ms) until it holds, or fails after `timeoutMs` (default 5 s) naming `what`: for states that
 * other processes, timers or connections reach on their own. The way tests wait: never a fixed sleep, and a deadline
 * generous enough for a busy machine, since a passing check returns at once.
 */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await delay(20);
  }
}
