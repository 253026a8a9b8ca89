import { parseArgs } from 'node:util';

export interface CliArguments {
  port: number | undefined;
  host: string | undefined;
  configPath: string | undefined;
  help: boolean;
}

export const USAGE = `Usage: node packages/provider-sim/dist/main.js [--port N] [--host H] [--config file.yaml]

  --port N        port to listen on (env SIM_PORT; default 0, an ephemeral port)
  --host H        address to bind (env SIM_HOST; default 127.0.0.1)
  --config FILE   YAML file with the simulator options (env SIM_CONFIG; default: sim-fast, sim-capable, sim-vision)
  --help          show this help`;

function parsePort(text: string, source: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || !Number.isInteger(port) || port > 65_535) {
    throw new Error(`${source}: expected an integer between 0 and 65535, got "${text}"`);
  }
  return port;
}

/** Flags win over environment variables; both are optional. Throws naming the flag or variable that is wrong. */
export function parseCliArguments(argv: readonly string[], environment: Readonly<Record<string, string | undefined>>): CliArguments {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  const portText = values.port ?? environment['SIM_PORT'];
  const portSource = values.port !== undefined ? '--port' : 'SIM_PORT';
  return {
    port: portText === undefined || portText === '' ? undefined : parsePort(portText, portSource),
    host: values.host ?? (environment['SIM_HOST'] || undefined),
    configPath: values.config ?? (environment['SIM_CONFIG'] || undefined),
    help: values.help ?? false,
  };
}
