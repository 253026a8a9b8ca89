import { eventually } from '../../../shared/src/test-support/eventually.js';
import type { SimulatedModel } from '@dosrouter/provider-sim';
import { SIMULATOR_KEY, startHarness, type Harness } from './harness.js';
import { HoldingBackend } from './holding-backend.js';

/**
 * A client that disconnects while queued: a blocker holds the only slot, a second request queues and its client
 * leaves, then a third queues; the backend answers the blocker and then the third. `waiting` reads how many wait in
 * the queue under test; `ask` sends a request tagged `tag`. The caller checks what the third and the blocker got.
 */
export async function leaveWhileQueued(
  backend: HoldingBackend,
  waiting: () => Promise<number>,
  ask: (tag: string, signal?: AbortSignal) => Promise<unknown>,
): Promise<{ blocker: Promise<unknown>; staying: Promise<unknown> }> {
  const blocker = ask('blocker');
  await eventually(() => backend.held.length === 1);
  const controller = new AbortController();
  const leaving = ask('leaving', controller.signal).catch(() => undefined);
  await eventually(async () => (await waiting()) === 1);
  controller.abort();
  await leaving;
  await eventually(async () => (await waiting()) === 0);
  const staying = ask('staying');
  await eventually(async () => (await waiting()) === 1);
  backend.release();
  await eventually(() => backend.received === 2);
  backend.release();
  return { blocker, staying };
}

/**
 * A gateway (admin API on, `saturation` as given) whose model `model` is served by one holding backend `held`, its
 * simulator serving `simulated` (default: a model nobody asks for).
 */
export async function startHeld(options: { model: string; adminKey: string; saturation: Record<string, unknown>; simulated?: SimulatedModel[] }): Promise<{ harness: Harness; backend: HoldingBackend }> {
  const backend = new HoldingBackend(options.model);
  const baseUrl = await backend.listen();
  const harness = await startHarness({
    models: options.simulated ?? [{ id: 'unused' }],
    adminKey: options.adminKey,
    configure: (config) => {
      (config.backends as Record<string, unknown>[]).unshift({ name: 'held', baseUrl, apiKey: SIMULATOR_KEY, models: [{ name: options.model }] });
      config.saturation = options.saturation;
    },
  }).catch(async (error: unknown) => {
    await backend.close();
    throw error;
  });
  return { harness, backend };
}

/** Lets the backend answer one request at a time, `count` times, each once the next has arrived. */
export async function releaseOneByOne(backend: HoldingBackend, count: number): Promise<void> {
  for (let index = 0; index < count; index += 1) {
    const before = backend.received;
    backend.release(1);
    await eventually(() => backend.received === before + 1);
  }
}
