import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger, flushLogger } from '@dosrouter/shared';
import { FAILED_LOGIN_SUMMARY_MS, FailedAdminLogins } from './failed-admin-logins.js';

/** A real logger writing into memory. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: createLogger({ level: 'info', service: 'test', destination }), lines };
}

describe('FailedAdminLogins', () => {
  beforeEach(() => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }));
  afterEach(() => void vi.useRealTimers());

  it('logs 1,000 failures over 100 s in three lines that count every one of them', async () => {
    const { logger, lines } = capturedLogger();
    const failed = new FailedAdminLogins(logger);
    for (let index = 0; index < 1_000; index += 1) {
      failed.record('/admin/keys', `10.0.0.${index % 20}`);
      vi.advanceTimersByTime(100);
    }
    vi.advanceTimersByTime(FAILED_LOGIN_SUMMARY_MS); // the last interval ends
    vi.useRealTimers();
    await flushLogger(logger);

    // One line for the first failure, one summary per 60 s interval in which failures went on.
    expect(lines.map((line) => line.message)).toEqual(['admin authentication failed', 'admin authentication failed repeatedly', 'admin authentication failed repeatedly']);
    expect(lines[0]).toMatchObject({ level: 'warn', route: '/admin/keys', remoteAddress: '10.0.0.0' });
    const counted = lines.slice(1).reduce((sum, line) => sum + (line.failures as number), 1);
    expect(counted).toBe(1_000);
    expect(lines[1]).toMatchObject({ intervalMs: FAILED_LOGIN_SUMMARY_MS, routes: ['/admin/keys'] });
    expect((lines[1]!.remoteAddresses as string[]).length).toBe(10); // a sample, not all 20
  });

  it('logs a failure on its own again after a quiet interval', async () => {
    const { logger, lines } = capturedLogger();
    const failed = new FailedAdminLogins(logger);
    failed.record('/metrics', '10.0.0.1');
    vi.advanceTimersByTime(FAILED_LOGIN_SUMMARY_MS * 2);
    failed.record('/metrics', '10.0.0.2');
    vi.useRealTimers();
    await flushLogger(logger);
    expect(lines.map((line) => [line.message, line.remoteAddress])).toEqual([
      ['admin authentication failed', '10.0.0.1'],
      ['admin authentication failed', '10.0.0.2'],
    ]);
  });
});
