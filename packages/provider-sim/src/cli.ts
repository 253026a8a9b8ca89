import { parseCliArguments, USAGE } from './config/cli-arguments.js';
import { DEFAULT_SIMULATED_MODELS } from './config/default-models.js';
import { loadConfigFile } from './config/load-config-file.js';
import { startSimulator } from './simulator.js';
import type { Simulator, SimulatorOptions } from './types.js';

export interface CliOutput {
  writeLine(line: string): void;
}

/**
 * Reads flags, environment and config file, starts the simulator and announces it with one JSON line. Returns
 * undefined when only help was asked for. Throws, naming the bad flag, variable or config field, on invalid input.
 */
export async function runCli(
  argv: readonly string[],
  environment: Readonly<Record<string, string | undefined>>,
  output: CliOutput,
): Promise<Simulator | undefined> {
  const cliArguments = parseCliArguments(argv, environment);
  if (cliArguments.help) {
    output.writeLine(USAGE);
    return undefined;
  }
  const fileOptions: SimulatorOptions =
    cliArguments.configPath === undefined
      ? { models: DEFAULT_SIMULATED_MODELS.map((model) => ({ ...model })) }
      : await loadConfigFile(cliArguments.configPath);
  const simulator = await startSimulator({
    ...fileOptions,
    ...(cliArguments.port === undefined ? {} : { port: cliArguments.port }),
    ...(cliArguments.host === undefined ? {} : { host: cliArguments.host }),
  });
  output.writeLine(
    JSON.stringify({
      msg: 'provider simulator listening',
      url: simulator.baseUrl,
      models: fileOptions.models.map((model) => model.id),
    }),
  );
  return simulator;
}
