import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RequestOutcome } from '../proxy/request-outcome.js';
import { AccessLog } from './access-log.js';

function capture() {
  const writes: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      writes.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { writes, log: new AccessLog(destination, 'gateway') };
}

const outcome = (requestId: string): RequestOutcome => ({ requestId, route: '/v1/chat/completions', receivedAt: 0, attempts: 1 });
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('AccessLog', () => {
  // Only the timers are fake: the turns of the event loop (setImmediate) are real.
  afterEach(() => vi.useRealTimers());

  it('writes the lines of several turns of the event loop in one write, in order, a few milliseconds later', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { writes, log } = capture();
    log.write(outcome('a'), 'POST', 200, 1);
    await turn();
    log.write(outcome('b'), 'POST', 200, 2);
    await turn();
    log.write(outcome('c'), 'POST', 499, 3);
    expect(writes).toHaveLength(0);
    vi.advanceTimersByTime(5);
    expect(writes).toHaveLength(1);
    const lines = writes[0]!.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toMatchObject([
      { level: 'info', service: 'gateway', message: 'request', requestId: 'a', status: 200 },
      { requestId: 'b', status: 200 },
      { requestId: 'c', status: 499 },
    ]);
  });

  it('writes what is pending at once when flushed (as at shutdown); its timer then writes nothing more', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { writes, log } = capture();
    log.write(outcome('a'), 'POST', 200, 1);
    log.flush();
    expect(writes).toHaveLength(1);
    vi.advanceTimersByTime(5);
    expect(writes).toHaveLength(1);
    log.write(outcome('b'), 'POST', 200, 2);
    vi.advanceTimersByTime(5);
    expect(writes).toHaveLength(2);
    expect(JSON.parse(writes[1]!)).toMatchObject({ requestId: 'b' });
  });
});
