import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnTracked } from './processes.mjs';

const REPORT_SCRIPT = fileURLToPath(new URL('../../bench/wrk-report.lua', import.meta.url));

/** A request slower than this counts as a wrk timeout error (wrk's default is 2 s). */
const REQUEST_TIMEOUT = '5s';

/** /usr/bin/wrk first (where Debian puts it), then the PATH; undefined when wrk is not installed. */
export function findWrk() {
  const candidates = ['/usr/bin/wrk', ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((directory) => join(directory, 'wrk'))];
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here; try the next one.
    }
  }
  return undefined;
}

export function wrkVersion(wrkPath) {
  try {
    execFileSync(wrkPath, ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    // wrk -v prints its version and exits with status 1.
    const output = `${error.stdout ?? ''}${error.stderr ?? ''}`;
    return output.split('\n')[0].trim() || undefined;
  }
  return undefined;
}

/**
 * One wrk run with a single thread (-t1): on a 2-core machine one core is left for the gateway while the simulator
 * and wrk share the other; more wrk threads would only take CPU from the process being measured.
 */
export async function runWrk(wrkPath, { url, body, headers, connections, durationSeconds }) {
  const args = [
    '-t1',
    `-c${connections}`,
    `-d${durationSeconds}s`,
    '--timeout',
    REQUEST_TIMEOUT,
    '-s',
    REPORT_SCRIPT,
    url,
    '--',
    body,
    headers.authorization ?? '',
  ];
  const child = spawnTracked(wrkPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (text) => (output += text));
  child.stderr.on('data', (text) => (output += text));
  const code = await new Promise((resolve) => child.once('exit', resolve));

  const line = output.split('\n').find((candidate) => candidate.startsWith('BENCH_RESULT '));
  if (line === undefined) throw new Error(`wrk (exit code ${code}) printed no result line:\n${output}`);
  const report = JSON.parse(line.slice('BENCH_RESULT '.length));
  const durationSecondsMeasured = report.durationMicroseconds / 1e6;
  const toMilliseconds = (microseconds) => microseconds / 1000;
  return {
    requests: report.requests,
    durationSeconds: durationSecondsMeasured,
    requestsPerSecond: report.requests / durationSecondsMeasured,
    latencyMs: {
      p50: toMilliseconds(report.latencyMicroseconds.p50),
      p90: toMilliseconds(report.latencyMicroseconds.p90),
      p99: toMilliseconds(report.latencyMicroseconds.p99),
      mean: toMilliseconds(report.latencyMicroseconds.mean),
      max: toMilliseconds(report.latencyMicroseconds.max),
    },
    // wrk counts a response as a status error when its status is 400 or above.
    non2xx: report.errors.status,
    errors: {
      connect: report.errors.connect,
      read: report.errors.read,
      write: report.errors.write,
      timeout: report.errors.timeout,
      other: 0,
    },
  };
}
