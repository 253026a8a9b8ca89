import { runCli } from './cli.js';
import { errorMessage } from './json-value.js';

try {
  const simulator = await runCli(process.argv.slice(2), process.env, {
    writeLine: (line) => process.stdout.write(`${line}\n`),
  });
  if (simulator !== undefined) {
    const shutdown = (): void => {
      simulator.close().then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`${JSON.stringify({ msg: 'provider simulator failed to close', error: String(error) })}\n`);
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  }
} catch (error) {
  process.stderr.write(`${errorMessage(error)}\n`);
  process.exit(1);
}
