import { archiveLog } from '../../packages/shared/src/test-support/log-archive.js';

/**
 * In every test worker: a copy of what it writes to stdout and stderr goes to the log archive, for the secret scan
 * at the end of the run (loggers a test creates without a destination write there).
 */
for (const [stream, source] of [
  [process.stdout, 'worker-stdout'],
  [process.stderr, 'worker-stderr'],
] as const) {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    archiveLog(source, typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return write(chunk, ...rest);
  }) as typeof stream.write;
}
