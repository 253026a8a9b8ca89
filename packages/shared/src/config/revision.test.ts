import { describe, expect, it } from 'vitest';
import { configRevision } from './revision.js';
import { configSchema } from './schema.js';

const document = (models: string[]) => ({ backends: [{ name: 'sim', baseUrl: 'http://127.0.0.1:9/v1', models: models.map((name) => ({ name })) }] });

describe('configRevision', () => {
  it('is 12 hex digits, the same for the same config whatever the order of its keys', () => {
    const revision = configRevision(configSchema.parse(document(['m'])));
    expect(revision).toMatch(/^[0-9a-f]{12}$/);
    const reordered = configSchema.parse({ backends: [{ models: [{ name: 'm' }], baseUrl: 'http://127.0.0.1:9/v1', name: 'sim' }] });
    expect(configRevision(reordered)).toBe(revision);
  });

  it('is the same for processes that differ only in their data directory (their own, whatever the config)', () => {
    expect(configRevision(configSchema.parse({ ...document(['m']), storage: { dataDir: '/data/a' } }))).toBe(configRevision(configSchema.parse({ ...document(['m']), storage: { dataDir: '/data/b' } })));
  });

  it('changes when the config means something else', () => {
    expect(configRevision(configSchema.parse(document(['m', 'n'])))).not.toBe(configRevision(configSchema.parse(document(['m']))));
  });
});
