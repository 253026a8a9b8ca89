import { describe, expect, it } from 'vitest';
import { parseCliArguments } from './cli-arguments.js';

describe('parseCliArguments', () => {
  it('reads --port, --host and --config', () => {
    expect(parseCliArguments(['--port', '4010', '--host', '0.0.0.0', '--config', 'sim.yaml'], {})).toEqual({
      port: 4010,
      host: '0.0.0.0',
      configPath: 'sim.yaml',
      help: false,
    });
  });

  it('falls back to SIM_PORT, SIM_HOST and SIM_CONFIG', () => {
    expect(parseCliArguments([], { SIM_PORT: '5000', SIM_HOST: '::1', SIM_CONFIG: 'env.yaml' })).toEqual({
      port: 5000,
      host: '::1',
      configPath: 'env.yaml',
      help: false,
    });
  });

  it('lets flags win over the environment', () => {
    expect(parseCliArguments(['--port', '1'], { SIM_PORT: '2' }).port).toBe(1);
  });

  it('leaves everything unset by default', () => {
    expect(parseCliArguments([], {})).toEqual({ port: undefined, host: undefined, configPath: undefined, help: false });
  });

  it('names the flag or variable holding a bad port', () => {
    expect(() => parseCliArguments(['--port', 'abc'], {})).toThrow(/^--port:/);
    expect(() => parseCliArguments([], { SIM_PORT: '70000' })).toThrow(/^SIM_PORT:/);
  });

  it('rejects unknown flags', () => {
    expect(() => parseCliArguments(['--prot', '1'], {})).toThrow(/--prot/);
  });
});
