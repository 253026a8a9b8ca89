import { describe, expect, it } from 'vitest';
import { WEIGHTS_SCHEMA_VERSION } from '@dosrouter/shared';
import { WeightsTable } from './weights-table.js';

const document = (generation: number, publishedAt: number, weights: Record<string, number>, schemaVersion = WEIGHTS_SCHEMA_VERSION) =>
  JSON.stringify({ schemaVersion, generation, publishedAt, weights });

describe('WeightsTable', () => {
  it('uses configured weights until a table arrives', () => {
    const table = new WeightsTable(60_000);
    expect(table.source(0)).toBe('configured');
    expect(table.current(0).size).toBe(0);
  });

  it('applies a fresh table and ignores older generations', () => {
    const table = new WeightsTable(60_000);
    expect(table.offer(document(2, 1_000, { 'a/m': 0, 'b/m': 3 }))).toBe(true);
    expect(table.current(2_000).get('a/m')).toBe(0);
    expect(table.offer(document(1, 900, { 'a/m': 5 }))).toBe(false);
    expect(table.current(2_000).get('a/m')).toBe(0);
    expect(table.offer(document(3, 1_500, { 'a/m': 1 }))).toBe(true);
    expect(table.generation).toBe(3);
  });

  it('keeps its last good table when a document has an unknown schema version or is malformed', () => {
    const table = new WeightsTable(60_000);
    table.offer(document(1, 1_000, { 'a/m': 2 }));
    expect(table.offer(document(9, 2_000, { 'a/m': 7 }, 99))).toBe(false);
    expect(table.offer('{not json')).toBe(false);
    expect(table.current(2_000).get('a/m')).toBe(2);
  });

  it('falls back to configured weights once the table is older than the staleness bound', () => {
    const table = new WeightsTable(10_000);
    table.offer(document(1, 1_000, { 'a/m': 0 }));
    expect(table.source(11_000)).toBe('prober');
    expect(table.source(11_001)).toBe('stale');
    expect(table.current(11_001).size).toBe(0);
  });
});
