import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema, createLogger, GatewayError, ModelCatalog } from '@dosrouter/shared';
import type { AttemptResult } from '../upstream/attempt.js';
import { eventually } from '../test-support/harness.js';
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

  describe('when a config reload changes the deployments', () => {
    const deploymentsOf = (breakers: Record<string, unknown>, models: string[]) =>
      new ModelCatalog(configSchema.parse({ breakers, backends: [{ name: 'b', baseUrl: 'http://127.0.0.1:1/v1', models: models.map((name) => ({ name })) }] })).deployments();
    const settings = { volumeThreshold: 2, errorThresholdPercentage: 50, cooldownMs: 60_000 };

    it('adds a circuit for a new deployment and drops a gone one’s, open or not', async () => {
      board = new BreakerBoard(deploymentsOf(settings, ['m', 'gone']), 'replica', undefined, silent);
      board.apply({ deploymentId: 'b/gone', state: 'open', durationMs: 60_000, replica: 'elsewhere', cause: 'errors' });
      board.useDeployments(deploymentsOf(settings, ['m', 'new']));
      expect([...board.states().keys()].sort()).toEqual(['b/m', 'b/new']);
      expect(board.openIds.has('b/gone')).toBe(false);
      for (let attempt = 0; attempt < 2; attempt += 1) await board.run('b/new', async () => rateLimited);
      expect(board.isOpen('b/new')).toBe(true);
    });

    it('keeps a circuit as it is when its settings did not change, and keeps an open one open under new settings', async () => {
      board = new BreakerBoard(deploymentsOf(settings, ['m', 'other']), 'replica', undefined, silent);
      board.apply({ deploymentId: 'b/m', state: 'open', durationMs: 60_000, replica: 'elsewhere', cause: 'errors' });
      board.apply({ deploymentId: 'b/other', state: 'open', durationMs: 60_000, replica: 'elsewhere', cause: 'errors' });
      board.useDeployments(deploymentsOf({ ...settings, cooldownMs: 30_000 }, ['m', 'other']));
      expect(board.isOpen('b/m')).toBe(true);
      expect(board.remainingMs('b/m')).toBeGreaterThan(50_000);
      board.useDeployments(deploymentsOf({ ...settings, cooldownMs: 30_000 }, ['m', 'other']));
      expect(board.isOpen('b/other')).toBe(true);
    });

    it('gives a half-open trial under way its own result when a reload replaces or removes its circuit meanwhile', async () => {
      const quick = { ...settings, cooldownMs: 100 };
      for (const next of [deploymentsOf({ ...quick, cooldownMs: 200 }, ['m']), deploymentsOf(quick, ['other'])]) {
        board?.shutdown();
        board = new BreakerBoard(deploymentsOf(quick, ['m']), 'replica', undefined, silent);
        for (let attempt = 0; attempt < 2; attempt += 1) await board.run('b/m', async () => rateLimited);
        await eventually(() => board!.states().get('b/m') === 'half_open', 5_000, 'the circuit half-open');
        const answers: ((result: AttemptResult) => void)[] = [];
        const trial = board.run('b/m', () => new Promise<AttemptResult>((resolve) => answers.push(resolve)));
        await eventually(() => answers.length === 1, 5_000, 'the trial under way');
        board.useDeployments(next);
        answers[0]!({ ok: true });
        await expect(trial).resolves.toEqual({ ok: true });
      }
    });

    it('keeps a replacing circuit’s trial its own when the replaced circuit’s trial ends after it began', async () => {
      const quick = { ...settings, cooldownMs: 100 };
      board = new BreakerBoard(deploymentsOf(quick, ['m']), 'replica', undefined, silent);
      const halfOpen = async (): Promise<void> => {
        for (let attempt = 0; attempt < 2; attempt += 1) await board!.run('b/m', async () => rateLimited);
        await eventually(() => board!.states().get('b/m') === 'half_open', 5_000, 'the circuit half-open');
      };
      const answers: ((result: AttemptResult) => void)[] = [];
      const held = (): Promise<AttemptResult> => new Promise<AttemptResult>((resolve) => answers.push(resolve));
      await halfOpen();
      const oldTrial = board.run('b/m', held);
      board.useDeployments(deploymentsOf({ ...quick, cooldownMs: 150 }, ['m']));
      await halfOpen();
      const newTrial = board.run('b/m', held);
      expect(answers).toHaveLength(2);
      answers[0]!({ ok: true });
      await oldTrial;
      // The new circuit's trial is still under way: a second request is refused, not let through as another trial.
      const second = await board.run('b/m', held);
      expect(second).toMatchObject({ ok: false, error: { code: 'circuit_open' } });
      answers[1]!({ ok: true });
      await expect(newTrial).resolves.toEqual({ ok: true });
      expect(board.states().get('b/m')).toBe('closed');
    });
  });

  describe('when the gateway\'s own code throws inside an attempt', () => {
    it('passes the error on and counts it against no circuit, however often', async () => {
      board = new BreakerBoard(catalog.deployments(), 'replica', undefined, silent);
      const ownBug = async (): Promise<AttemptResult> => {
        throw new RangeError('Maximum call stack size exceeded');
      };
      for (let request = 0; request < 20; request += 1) await expect(board.run('b/m', ownBug)).rejects.toThrow(RangeError);
      expect(board.isOpen('b/m')).toBe(false);
      // The backend's own faults still count: two 500s cross the 50% threshold at a volume of two.
      const serverError: AttemptResult = { ok: false, error: new GatewayError('boom', { status: 500, code: 'upstream_error' }) };
      for (let request = 0; request < 2; request += 1) await board.run('b/m', async () => serverError);
      expect(board.isOpen('b/m')).toBe(true);
    });
  });

  describe('when a circuit is half-open', () => {
    const halfOpen = async (target: BreakerBoard): Promise<void> => {
      target.apply({ deploymentId: 'b/m', state: 'open', durationMs: 1, replica: 'elsewhere', cause: 'errors' });
      await eventually(() => target.states().get('b/m') === 'half_open');
    };

    it('lets one trial through at a time and closes on its success', async () => {
      board = new BreakerBoard(catalog.deployments(), 'replica', undefined, silent);
      await halfOpen(board);
      let finishTrial: (result: AttemptResult) => void = () => undefined;
      const trial = board.run('b/m', () => new Promise<AttemptResult>((resolve) => (finishTrial = resolve)));
      const second = await board.run('b/m', async () => ({ ok: true }));
      expect(second.ok ? undefined : second.error.code).toBe('circuit_open');
      finishTrial({ ok: true });
      expect((await trial).ok).toBe(true);
      expect(board.states().get('b/m')).toBe('closed');
    });

    it('stays half-open and frees the trial when the client leaves or our code throws during it', async () => {
      board = new BreakerBoard(catalog.deployments(), 'replica', undefined, silent);
      await halfOpen(board);
      const clientGone: AttemptResult = { ok: false, error: new GatewayError('gone', { status: 499, code: 'client_closed' }) };
      await board.run('b/m', async () => clientGone);
      expect(board.states().get('b/m')).toBe('half_open');
      await expect(board.run('b/m', async () => Promise.reject(new TypeError('bug')))).rejects.toThrow(TypeError);
      expect(board.states().get('b/m')).toBe('half_open');
      const failed: AttemptResult = { ok: false, error: new GatewayError('down', { status: 502, code: 'upstream_unreachable' }) };
      await board.run('b/m', async () => failed);
      expect(board.isOpen('b/m')).toBe(true);
    });
  });
});
