import { describe, expect, it } from 'vitest';
import { liveChanges } from './restart-only.js';
import { configSchema } from './schema.js';

const parse = (extra: Record<string, unknown>) =>
  configSchema.parse({ backends: [{ name: 'sim', baseUrl: 'http://127.0.0.1:9/v1', models: [{ name: 'm' }] }], ...extra });

describe('liveChanges', () => {
  it('takes every live setting from the new config and keeps the running value of each restart-only one, naming it', () => {
    const running = parse({ server: { port: 8080 }, limits: { leaseMs: 30_000 } });
    const next = parse({
      server: { port: 9090 },
      limits: { leaseMs: 60_000, perKey: { requestsPerMinute: 5 } },
      logging: { level: 'debug' },
      redis: { url: 'redis://elsewhere:6379' },
    });
    const { config, ignored } = liveChanges(running, next);
    expect(ignored).toEqual(['server', 'redis', 'limits.leaseMs']);
    expect(config.server.port).toBe(8080);
    expect(config.redis.url).toBeUndefined();
    expect(config.limits.leaseMs).toBe(30_000);
    expect(config.limits.perKey.requestsPerMinute).toBe(5);
    expect(config.logging.level).toBe('debug');
  });

  it('names nothing when only live settings changed, and leaves both configs as they were', () => {
    const running = parse({});
    const next = parse({ routing: { strategy: 'latency' } });
    const before = JSON.stringify(next);
    expect(liveChanges(running, next).ignored).toEqual([]);
    expect(JSON.stringify(next)).toBe(before);
  });
});
