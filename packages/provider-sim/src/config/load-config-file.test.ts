import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from './load-config-file.js';

describe('loadConfigFile', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'provider-sim-config-'));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  async function write(text: string): Promise<string> {
    const path = join(directory, 'simulator.yaml');
    await writeFile(path, text);
    return path;
  }

  it('reads the simulator options from YAML', async () => {
    const path = await write(
      ['seed: 7', 'apiKey: sk-sim', 'models:', '  - id: sim-a', '    outputTokens: 8', '    faultRates:', '      rate_limit: 0.1'].join('\n'),
    );

    await expect(loadConfigFile(path)).resolves.toEqual({
      seed: 7,
      apiKey: 'sk-sim',
      models: [{ id: 'sim-a', outputTokens: 8, faultRates: { rate_limit: 0.1 } }],
    });
  });

  it('names the file and the bad field when the options are invalid', async () => {
    const path = await write(['models:', '  - id: sim-a', '    interTokenDelayMs: fast'].join('\n'));

    await expect(loadConfigFile(path)).rejects.toThrow(`Invalid simulator config ${path}: models.0.interTokenDelayMs`);
  });

  it('says so when the file is not YAML', async () => {
    const path = await write('models: [unclosed');

    await expect(loadConfigFile(path)).rejects.toThrow(/is not valid YAML/);
  });

  it('says so when the file cannot be read', async () => {
    await expect(loadConfigFile(join(directory, 'missing.yaml'))).rejects.toThrow(/Cannot read simulator config/);
  });
});
