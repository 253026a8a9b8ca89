import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { timeoutsSchema } from '@dosrouter/shared';
import { eventually } from '../test-support/harness.js';
import { createBackendPool, type BackendPool } from './backend-pool.js';

/**
 * `backends[].http2.mode: auto` over TLS: each connection speaks what the server chose in ALPN. Real TLS servers on
 * port 0 with a self-signed certificate (Debian's openssl), trusted through the pool's `ca`.
 */

let directory: string;
let certificate: { cert: string; key: string };
beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'backend-pool-'));
  const keyFile = join(directory, 'key.pem');
  const certFile = join(directory, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=backend', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  certificate = { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

type AnyRequest = IncomingMessage | Http2ServerRequest;
type AnyResponse = ServerResponse | Http2ServerResponse;

/**
 * Answers `/warm` at once; holds every other request until `count` of them are there at once, then answers each with
 * its HTTP version. Records the connections (HTTP/2 sessions or sockets) the held requests came on.
 */
function answerWhenAllArrived(count: number) {
  const held: { request: AnyRequest; response: AnyResponse }[] = [];
  const connections = new Set<unknown>();
  const listener = (request: AnyRequest, response: AnyResponse): void => {
    request.resume();
    request.once('end', () => {
      if (request.url === '/warm') {
        response.end(request.httpVersion);
        return;
      }
      connections.add('stream' in request ? request.stream.session : request.socket);
      held.push({ request, response });
      if (held.length < count) return;
      for (const entry of held.splice(0)) entry.response.end(entry.request.httpVersion);
    });
  };
  return { listener, connections };
}

async function listen(server: HttpsServer | Http2SecureServer): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function autoPool(origin: string): BackendPool {
  const backendPool = createBackendPool(new URL(origin), { mode: 'auto', streamsPerConnection: 100 }, undefined, timeoutsSchema.parse({}), { ca: certificate.cert });
  cleanups.push(() => backendPool.pool.destroy());
  return backendPool;
}

const post = (backendPool: BackendPool, path = '/v1/chat/completions') =>
  backendPool.pool.request({ path, method: 'POST', body: '{}', idempotent: true }).then((response) => response.body.text());

describe('a backend pool in auto mode over TLS', () => {
  it('speaks HTTP/2 when the server chooses h2, concurrent requests sharing the connection', async () => {
    const { listener, connections } = answerWhenAllArrived(6);
    const backendPool = autoPool(await listen(createSecureServer({ ...certificate, allowHTTP1: true }, listener)));
    expect(backendPool.protocol).toBe('negotiated');
    expect(await post(backendPool, '/warm')).toBe('2.0');
    // Six at once, each answered only when all six are there: none waits behind another.
    expect(await Promise.all(Array.from({ length: 6 }, () => post(backendPool)))).toEqual(Array(6).fill('2.0'));
    expect(connections.size).toBe(1);
    await eventually(() => backendPool.pool.stats.connected === 1);
  });

  it('speaks HTTP/1.1, one request per connection, when the server does not offer h2', async () => {
    const { listener, connections } = answerWhenAllArrived(3);
    const backendPool = autoPool(await listen(createHttpsServer(certificate, listener)));
    expect(await post(backendPool, '/warm')).toBe('1.1');
    // Never pipelined: three at once arrive on three connections.
    expect(await Promise.all(Array.from({ length: 3 }, () => post(backendPool)))).toEqual(Array(3).fill('1.1'));
    expect(connections.size).toBe(3);
  });
});
