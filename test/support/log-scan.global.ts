import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Any client key's secret, named by a test or not: `dr-` and 43 URL-safe base64 characters. */
const CLIENT_SECRET = /\bdr-[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/;

/**
 * Around the whole test run: points DOSROUTER_LOG_ARCHIVE at a fresh directory, where the test workers (their output,
 * and every log destination the harnesses use) and the processes the cluster tests start copy their log lines; at
 * the end scans every line for every secret the tests recorded (backend keys, admin keys, client keys) and for
 * anything shaped like a client secret. A secret in a log fails the run.
 */
export default function setup(): () => void {
  const directory = mkdtempSync(join(tmpdir(), 'dosrouter-test-logs-'));
  process.env.DOSROUTER_LOG_ARCHIVE = directory;
  return () => {
    const files = readdirSync(directory);
    const secrets = new Set(
      files
        .filter((file) => file.startsWith('secrets-'))
        .flatMap((file) => readFileSync(join(directory, file), 'utf8').split('\n'))
        // Short test strings (`k`, `local`) would match ordinary words; every real secret in the tests is longer.
        .filter((secret) => secret.length >= 12),
    );
    const findings: string[] = [];
    let lines = 0;
    for (const file of files.filter((name) => name.endsWith('.log'))) {
      for (const line of readFileSync(join(directory, file), 'utf8').split('\n')) {
        lines += 1;
        const leaked = [...secrets].find((secret) => line.includes(secret)) ?? line.match(CLIENT_SECRET)?.[0];
        if (leaked) findings.push(`${file}: ${leaked.slice(0, 6)}… in ${line.slice(0, 300)}`);
      }
    }
    rmSync(directory, { recursive: true, force: true });
    process.stdout.write(`log scan: ${lines} log lines in ${files.length} files checked for ${secrets.size} recorded secrets and client-key shapes: ${findings.length} found\n`);
    if (findings.length > 0) {
      // vitest reports an error thrown here but still exits 0: the exit code is set as well.
      process.exitCode = 1;
      throw new Error(`secrets found in the logs written during the tests:\n${findings.slice(0, 20).join('\n')}`);
    }
  };
}
