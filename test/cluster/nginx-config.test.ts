import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema } from '@dosrouter/shared';
import { NGINX_DEFAULTS, renderDockerNginxConfig, renderNginxConfig } from '../../scripts/cluster/nginx-config.mjs';
import { REPOSITORY } from './support/test-cluster.js';

const local = renderNginxConfig({ target: 'local', listen: '127.0.0.1:8080', upstreams: ['127.0.0.1:9001', '127.0.0.1:9002'] });
const docker = renderDockerNginxConfig();

/** The value of every occurrence of a directive, e.g. values(config, 'proxy_buffering') → ['off']. */
function values(config: string, directive: string): string[] {
  return [...config.matchAll(new RegExp(`^[ \\t]*${directive}[ \\t]+([^;{]*);`, 'gm'))].map((match) => match[1]!.trim());
}

describe('the nginx config generator', () => {
  it('is what deploy/nginx/nginx.conf holds (regenerate: node scripts/cluster/nginx-config.mjs --docker > deploy/nginx/nginx.conf)', () => {
    expect(readFileSync(join(REPOSITORY, 'deploy/nginx/nginx.conf'), 'utf8')).toBe(docker);
  });

  for (const [target, config] of [['local', local], ['docker', docker]] as const) {
    describe(`for ${target}`, () => {
      it('resends to another replica only on connection errors and timeouts, never on a replica’s 5xx', () => {
        expect(values(config, 'proxy_next_upstream')).toEqual(['error timeout non_idempotent']);
        expect(values(config, 'proxy_next_upstream_tries')).toEqual(['3']);
        expect(values(config, 'proxy_request_buffering')).toEqual(['on']);
        expect(values(config, 'proxy_intercept_errors')).toEqual([]);
      });

      it('passes streams through unbuffered over keep-alive HTTP/1.1 connections', () => {
        expect(values(config, 'proxy_buffering')).toEqual(['off']);
        expect(values(config, 'proxy_http_version')).toEqual(['1.1']);
        expect(values(config, 'proxy_set_header Connection')).toEqual(['""']);
        expect(values(config, 'keepalive')).toEqual([String(NGINX_DEFAULTS.upstreamKeepalive)]);
      });

      it('passes the request id through and generates one when the client sent none', () => {
        expect(values(config, 'proxy_set_header X-Request-Id')).toEqual(['$dosrouter_request_id']);
        expect(config).toMatch(/map \$http_x_request_id \$dosrouter_request_id \{\s*default \$http_x_request_id;\s*""\s+\$request_id;/);
      });
    });
  }

  it('agrees with the gateway’s defaults', () => {
    const gateway = configSchema.parse({ backends: [{ name: 'b', baseUrl: 'http://127.0.0.1:1/v1', models: [{ name: 'm' }] }] });
    expect(NGINX_DEFAULTS.bodyLimitBytes).toBe(gateway.server.bodyLimit);
    expect(NGINX_DEFAULTS.largeHeaderBufferBytes).toBe(gateway.server.maxHeaderBytes);
    // nginx closes idle upstream connections before the replica would, so a request never races the replica's close.
    expect(NGINX_DEFAULTS.upstreamKeepaliveTimeoutSeconds * 1000).toBeLessThan(gateway.server.keepAliveTimeoutMs);
    // A stream may stay open as long as the gateway lets an upstream attempt run.
    expect(NGINX_DEFAULTS.readTimeoutSeconds * 1000).toBeGreaterThanOrEqual(gateway.upstream.timeouts.totalMs);
    expect(NGINX_DEFAULTS.workerShutdownTimeoutSeconds * 1000).toBeGreaterThanOrEqual(gateway.server.shutdownGraceMs);
  });

  it('runs under a prefix of its own locally, and follows Docker’s DNS in Docker', () => {
    expect(values(local, 'daemon')).toEqual(['off']);
    expect(values(local, 'pid')).toEqual(['nginx.pid']);
    expect(values(local, 'client_body_temp_path')).toEqual(['client_body_temp']);
    expect(values(docker, 'daemon')).toEqual([]); // the nginx image's command adds `daemon off;` itself
    expect(values(docker, 'resolver')).toEqual(['127.0.0.11 valid=5s ipv6=off']);
    expect(values(docker, 'server')).toEqual(['gateway:8080 resolve max_fails=1 fail_timeout=2s']);
    expect(values(docker, 'zone')).toHaveLength(1); // `resolve` needs the upstream group in shared memory
  });
});
