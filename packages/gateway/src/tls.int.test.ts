import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '@dosrouter/shared';
import { eventually, startHarness, type Harness } from './test-support/harness.js';

/** A self-signed certificate for 127.0.0.1 with this common name, made by Debian's openssl. */
function selfSigned(directory: string, name: string): { cert: string; key: string } {
  const certFile = join(directory, `${name}.crt`);
  const keyFile = join(directory, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

/** One HTTPS GET trusting `ca`: the status and the common name of the certificate the server presented. */
function get(url: string, ca: string[]): Promise<{ status: number; commonName: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { ca, agent: false }, (response) => {
      const commonName = String((response.socket as TLSSocket).getPeerCertificate().subject?.CN);
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, commonName }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('HTTPS', () => {
  const directory = mkdtempSync(join(tmpdir(), 'dosrouter-tls-'));
  const first = selfSigned(directory, 'first');
  const renewed = selfSigned(directory, 'renewed');
  const certFile = join(directory, 'live.crt');
  const keyFile = join(directory, 'live.key');
  writeFileSync(certFile, first.cert);
  writeFileSync(keyFile, first.key);
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({
      models: [{ id: 'sim-model' }],
      configure: (config) => void (config.server = { http: false, tls: { certFile, keyFile, port: 0, reloadIntervalMs: 100 } }),
    });
  });
  afterAll(async () => {
    await harness.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('serves HTTPS only when plain HTTP is off', async () => {
    expect(harness.gateway.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(harness.gateway.servers).toHaveLength(1);
    expect(await get(`${harness.gateway.url}/healthz`, [first.cert])).toEqual({ status: 200, commonName: 'first' });
  });

  it('picks up a renewed certificate without a restart, and keeps the old one while a renewal is half-written', async () => {
    writeFileSync(`${certFile}.tmp`, 'not a certificate');
    renameSync(`${certFile}.tmp`, certFile);
    // The next check (every 100 ms here) sees the half-written file and says it keeps the current certificate.
    await eventually(() => harness.logs.lines.some((line) => line.message === 'TLS certificate not reloaded; keeping the current one'), 10_000, 'the refused reload logged');
    expect((await get(`${harness.gateway.url}/healthz`, [first.cert])).commonName).toBe('first');

    // As certbot does: new files moved into place.
    writeFileSync(`${keyFile}.tmp`, renewed.key);
    writeFileSync(`${certFile}.tmp`, renewed.cert);
    renameSync(`${keyFile}.tmp`, keyFile);
    renameSync(`${certFile}.tmp`, certFile);
    await eventually(async () => (await get(`${harness.gateway.url}/healthz`, [first.cert, renewed.cert])).commonName === 'renewed', 10_000, 'the renewed certificate served');
    const sent = JSON.stringify(harness.logs.lines);
    expect(sent).not.toContain(renewed.key.split('\n')[1]);
  });

  it('refuses a config that turns plain HTTP off without TLS', () => {
    expect(() => configSchema.parse({ server: { http: false }, backends: [{ name: 'a', baseUrl: 'http://127.0.0.1:1/v1', models: [{ name: 'm' }] }] })).toThrow(/http: false needs tls/);
  });
});
