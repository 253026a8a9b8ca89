import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema, createLogger, GatewayError, ModelCatalog } from '@dosrouter/shared';
import type { AttemptResult } from '../upstream/attempt.js';
import { BreakerBoard } from './breaker-board.js';

const silent = createLogger({ level: 'error', service: 'test', destination: new Writable({ write: (_chunk, _encoding, callback) => callback() }) });
const catalog = new ModelCatalog(
  configSchema.parse({
    breakers: { volumeThreshold: 2, errorThresholdPercentage: 50, cooldownMs: 60_000 },
    backends: [{ name: 'b', baseUrl: 'http://127.0.0.1:1/v1', models: [{ name: 'm' }] }],
  }),
);
const rateLimited: AttemptResult = { ok: false, error: new GatewayError('slow down', { status: 429, code: 'rate_limit_exceeded' }) };

describe('BreakerBoard and health probes (embedded)', () => {
  let board: BreakerBoard | undefined;
  afterEach(() => board?.shutdown());

  it('closes a circuit errors opened when a probe that started before it succeeds, not one that started after', async () => {
    board = new BreakerBoard(catalog.deployments(), 'replica', undefined, silent);
    const before = Date.now() - 1;
    board.apply({ deploymentId: 'b/m', state: 'open', durationMs: 60_000, replica: 'elsewhere', cause: 'errors' });
    expect(board.closeAfterProbe('b/m', Date.now() + 1_000)).toBe(true);
    expect(board.isOpen('b/m')).toBe(false);
    board.apply({ deploymentId: 'b/m', state: 'open', durationMs: 60_000, replica: 'elsewhere', cause: 'errors' });
    expect(board.closeAfterProbe('b/m', before)).toBe(false);
    expect(board.isOpen('b/m')).toBe(true);
  });

  it('keeps a circuit open for the Retry-After even when the 429s themselves tripped it', async () => {
    board = new BreakerBoard(catalog.deployments(), 'replica', undefined, silent);
    // Two 429s cross the error threshold: opossum opens the circuit as for errors…
    for (let attempt = 0; attempt < 2; attempt += 1) await board.run('b/m', async () => rateLimited);
    expect(board.isOpen('b/m')).toBe(true);
    // …and the gateway's handling of the 429 then says why: the backend asked for 60 s.
    board.openFor('b/m', 60_000, 'rate limited by the backend');
    expect(board.closeAfterProbe('b/m', Date.now() + 1_000)).toBe(false);
    expect(board.isOpen('b/m')).toBe(true);
  });
});
