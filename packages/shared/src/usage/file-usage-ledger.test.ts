import { appendFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryLimiter } from '../state/memory/memory-limiter.js';
import { recordingLogger, temporaryDirectory } from '../test-support/temporary-storage.js';
import { usageRecord } from '../test-support/usage-records.js';
import { FileUsageLedger, type FileUsageLedgerOptions } from './file-usage-ledger.js';
import { usageDay, usageMonth } from './usage-record.js';

describe('FileUsageLedger across a restart', () => {
  const now = Date.UTC(2026, 11, 5, 12);
  const today = usageDay(now);
  const yesterday = usageDay(now - 86_400_000);
  const month = usageMonth(now);
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>;
  let path: string;
  const ledgers: FileUsageLedger[] = [];
  const open = async (options: Partial<FileUsageLedgerOptions> = {}): Promise<FileUsageLedger> => {
    const ledger = await FileUsageLedger.open({ path, logger: recordingLogger().logger, retentionDays: 400, ...options });
    ledgers.push(ledger);
    return ledger;
  };
  /** Everything a ledger answers: both days' tables and the spend budgets read. */
  const stateOf = async (ledger: FileUsageLedger) => ({
    days: await ledger.readDays([yesterday, today]),
    spend: ['key_a', 'key_b'].map((key) => [today, yesterday, month].map((period) => ledger.spentNanoUsd(key, period))),
  });

  beforeEach(async () => {
    directory = await temporaryDirectory();
    path = join(directory.path, 'usage.jsonl');
  });
  afterEach(async () => {
    await Promise.all(ledgers.splice(0).map((ledger) => ledger.close()));
    await directory.remove();
  });

  it('answers the same totals and spend after a restart', async () => {
    const ledger = await open();
    await ledger.append([
      usageRecord({ at: now - 86_400_000 }),
      usageRecord({ at: now, keyId: 'key_b', costUsd: 0.5 }),
      usageRecord({ at: now, model: 'capable', status: 502, errorCode: 'upstream_error', costUsd: 0 }),
      usageRecord({ at: now, keyId: undefined, estimated: true }),
    ]);
    const before = await stateOf(ledger);
    expect(before.spend[1]).toEqual([500_000_000, 0, 500_000_000]);
    expect(before.days.map((table) => [table.day, table.keyId])).toEqual([
      [yesterday, 'key_a'],
      [today, 'key_b'],
      [today, 'key_a'],
      [today, '-'],
    ]);
    await ledger.close();
    expect(await stateOf(await open())).toEqual(before);
  });

  it('keeps a spent budget refusing after a restart', async () => {
    const ledger = await open();
    await ledger.append([usageRecord({ at: now, keyId: 'key_b', costUsd: 2 })]);
    await ledger.close();
    const limiter = new MemoryLimiter(() => now, () => 1, await open());
    const budget = { keyId: 'key_b', dailyNanoUsd: 1_000_000_000, monthlyNanoUsd: -1, day: today, month };
    const admission = await limiter.admit({ requestId: 'r1', key: { id: 'key:key_b', limits: {} }, deployments: [{ id: 'deployment:a', limits: {} }], estimatedTokens: 1, budget });
    expect(admission).toMatchObject({ admitted: false, limit: 'daily_budget', spend: { dayNanoUsd: 2_000_000_000 } });
  });

  it('rewrites a grown journal into its tables, answering the same after the restart', async () => {
    const ledger = await open({ journal: { compactMinBytes: 16_384 } });
    for (let index = 0; index < 300; index += 1) {
      await ledger.append([usageRecord({ at: index % 3 === 0 ? now - 86_400_000 : now, keyId: index % 2 === 0 ? 'key_a' : 'key_b', model: index % 5 === 0 ? 'capable' : 'fast' })]);
    }
    await ledger.close();
    // 300 records of ~330 bytes: ~100 KB unless rewritten.
    expect((await stat(path)).size).toBeLessThan(40_000);
    const before = await stateOf(ledger);
    expect(before.days.reduce((sum, table) => sum + (table.counters['fast\trequests'] ?? 0) + (table.counters['capable\trequests'] ?? 0), 0)).toBe(300);
    expect(await stateOf(await open())).toEqual(before);
  });

  it('starts after a crash cut its last line short, with every whole record counted', async () => {
    const ledger = await open();
    await ledger.append([usageRecord({ at: now }), usageRecord({ at: now })]);
    await ledger.close();
    const before = await stateOf(ledger);
    await appendFile(path, JSON.stringify({ record: usageRecord({ at: now }) }).slice(0, 80));
    expect(await stateOf(await open())).toEqual(before);
  });
});
