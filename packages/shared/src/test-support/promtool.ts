import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's promtool (`apt-get install prometheus`, which .ci/run does), or PROMTOOL_PATH. */
function promtoolPath(): string {
  const configured = process.env.PROMTOOL_PATH;
  if (configured) return configured;
  for (const candidate of ['/usr/bin/promtool', '/usr/local/bin/promtool']) if (existsSync(candidate)) return candidate;
  throw new Error('promtool is not installed: apt-get install prometheus, or set PROMTOOL_PATH');
}

export interface PromtoolVerdict {
  /** promtool's exit code: 0 when the exposition parses and lints clean. */
  readonly exitCode: number;
  /** Everything it printed: each problem and each lint warning, one a line; empty when there are none. */
  readonly output: string;
}

/** Runs `promtool check metrics` (parse errors and lint warnings both) on a Prometheus text exposition. */
export function checkMetrics(exposition: string): Promise<PromtoolVerdict> {
  return new Promise((resolve, reject) => {
    const child = execFile(promtoolPath(), ['check', 'metrics'], { timeout: 20_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        reject(error);
        return;
      }
      resolve({ exitCode: error ? Number(error.code) : 0, output: `${stdout}${stderr}`.trim() });
    });
    child.stdin?.end(exposition);
  });
}
