import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { requestJson } from './test-support/read-event-stream.js';
import type { Simulator } from './types.js';

describe('runCli', () => {
  const lines: string[] = [];
  const output = { writeLine: (line: string): void => void lines.push(line) };
  let simulator: Simulator | undefined;
  let directory: string | undefined;

  afterEach(async () => {
    lines.length = 0;
    await simulator?.close();
    simulator = undefined;
    if (directory !== undefined) {
      await rm(directory, { recursive: true, force: true });
      directory = undefined;
    }
  });

  describe('without a config file', () => {
    it('serves sim-fast, sim-capable and sim-vision and prints one JSON line with the URL', async () => {
      simulator = await runCli(['--port', '0'], {}, output);

      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0] ?? '')).toEqual({
        msg: 'provider simulator listening',
        url: simulator?.baseUrl,
        models: ['sim-fast', 'sim-capable', 'sim-vision'],
      });
      const models = await requestJson(`${simulator?.baseUrl}/models`);
      expect(models.body).toMatchObject({ data: [{ id: 'sim-fast' }, { id: 'sim-capable' }, { id: 'sim-vision' }] });
    });
  });

  describe('with a config file from SIM_CONFIG', () => {
    it('serves the configured models', async () => {
      directory = await mkdtemp(join(tmpdir(), 'provider-sim-cli-'));
      const path = join(directory, 'sim.yaml');
      await writeFile(path, 'models:\n  - id: sim-custom\n');

      simulator = await runCli([], { SIM_CONFIG: path }, output);

      const models = await requestJson(`${simulator?.baseUrl}/models`);
      expect(models.body).toMatchObject({ data: [{ id: 'sim-custom' }] });
    });
  });

  describe('with --help', () => {
    it('prints the usage and starts nothing', async () => {
      simulator = await runCli(['--help'], {}, output);

      expect(simulator).toBeUndefined();
      expect(lines[0]).toMatch(/^Usage:/);
    });
  });
});
