import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './test-support/harness.js';

type Document = { backends: Record<string, unknown>[]; routing?: Record<string, unknown> };

/** A user's strategy, one file as docs/routing.md shows: the last configured deployment first. */
const LAST_FIRST = `export default {
  name: 'last-first',
  order(candidates) {
    return [...candidates].reverse();
  },
};
`;

describe('a routing strategy of the user’s own, in one file', () => {
  const directory = mkdtempSync(join(tmpdir(), 'dosrouter-strategy-'));
  const strategyFile = join(directory, 'last-first.mjs');
  writeFileSync(strategyFile, LAST_FIRST);
  writeFileSync(join(directory, 'not-a-strategy.mjs'), 'export default { name: 42 };\n');
  let harness: Harness;

  /** Two deployments of sim-model (two backends on the same simulator), with `routing` as given. */
  const twoDeployments = (routing: Record<string, unknown>) => (config: Record<string, unknown>) => {
    const document = config as Document;
    const sim = document.backends[0]!;
    document.backends.push({ name: 'second', baseUrl: sim.baseUrl, apiKey: sim.apiKey, models: [{ name: 'sim-model' }] });
    document.routing = routing;
  };

  beforeAll(async () => {
    harness = await startHarness({ models: [{ id: 'sim-model' }], configure: twoDeployments({ strategyModules: [strategyFile], strategy: 'last-first' }) });
  });
  afterAll(async () => {
    await harness.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('is loaded from routing.strategyModules and routes like a built-in', async () => {
    for (let index = 0; index < 10; index += 1) {
      const { response } = await harness.client().chat.completions.create({ model: 'sim-model', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
      expect(response.headers.get('x-dosrouter-strategy')).toBe('last-first');
      expect(response.headers.get('x-dosrouter-deployment')).toBe('second/sim-model');
    }
  });

  it('can be chosen per request, and the built-ins stay available', async () => {
    const explain = async (strategy: string) => {
      const response = await fetch(`${harness.gateway.url}/v1/router/explain`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-dosrouter-strategy': strategy },
        body: JSON.stringify({ model: 'sim-model', messages: [{ role: 'user', content: 'hi' }] }),
      });
      return (await response.json()) as { strategy: { name: string; source: string }; attempts: string[] };
    };
    expect(await explain('last-first')).toMatchObject({ strategy: { name: 'last-first', source: 'header' }, attempts: ['second/sim-model', 'sim/sim-model'] });
    expect((await explain('round-robin')).strategy).toEqual({ name: 'round-robin', source: 'header' });
  });

  it('stops the start with the file named when it does not export a strategy, or cannot be loaded', async () => {
    for (const [file, message] of [
      [join(directory, 'not-a-strategy.mjs'), /not-a-strategy\.mjs must export a strategy/],
      [join(directory, 'missing.mjs'), /cannot load .*missing\.mjs/],
    ] as const) {
      await expect(startHarness({ models: [{ id: 'sim-model' }], configure: twoDeployments({ strategyModules: [file] }) })).rejects.toThrow(message);
    }
  });

  it('refuses a config that names a strategy nobody registered', async () => {
    await expect(startHarness({ models: [{ id: 'sim-model' }], configure: twoDeployments({ strategy: 'fastest' }) })).rejects.toThrow(/routing strategy "fastest" is not registered/);
  });
});
