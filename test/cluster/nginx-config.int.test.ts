import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { renderDockerNginxConfig, renderNginxConfig } from '../../scripts/cluster/nginx-config.mjs';
import { findExecutable } from '../../scripts/cluster/processes.mjs';

const run = promisify(execFile);
const directory = mkdtempSync(join(tmpdir(), 'dosrouter-nginx-config-'));
const runAsRoot = process.getuid?.() === 0;

/** `nginx -t` on a config, with this directory as prefix; resolves with what nginx printed. */
async function nginxTest(config: string): Promise<string> {
  const path = join(directory, 'nginx.conf');
  writeFileSync(path, config);
  const { stderr } = await run(findExecutable('nginx', process.env.NGINX), ['-t', '-p', `${directory}/`, '-c', path, '-e', 'stderr']);
  return stderr;
}

describe('nginx -t', () => {
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('accepts the local config', async () => {
    const config = renderNginxConfig({
      target: 'local',
      listen: '127.0.0.1:8080',
      upstreams: ['127.0.0.1:9001', '127.0.0.1:9002', '127.0.0.1:9003'],
      user: runAsRoot ? 'root' : undefined,
    });
    expect(await nginxTest(config)).toContain('test is successful');
  });

  it('accepts the docker config, but for what needs nginx 1.27.3 and Docker’s network', async () => {
    // This machine's nginx may predate `resolve` (open-source since 1.27.3) and cannot resolve "gateway"; the
    // nginx:1.27-alpine image has both. Everything else is checked as written.
    const adapted = renderDockerNginxConfig()
      .replace(' resolve ', ' ')
      .replace('gateway:8080', '127.0.0.1:8080')
      .replace('user nginx;', runAsRoot ? 'user root;' : '')
      .replace('pid /var/run/nginx.pid;', 'pid nginx.pid;')
      .replace('error_log /dev/stderr', 'error_log stderr')
      .replace('access_log /dev/stdout', 'access_log access.log');
    expect(await nginxTest(adapted)).toContain('test is successful');
  });
});
