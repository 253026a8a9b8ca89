import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect, type SecureClientSessionOptions } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../../shared/src/test-support/eventually.js';
import { startSimulator } from '../simulator.js';
import type { Simulator } from '../types.js';

const running: Simulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((simulator) => simulator.close()));
});

const body = JSON.stringify({ model: 'sim-a', stream: true, messages: [{ role: 'user', content: 'hi' }] });

/** One streamed chat completion over h2c with prior knowledge; resolves with the status and the event text. */
function askOverH2c(origin: string, options: SecureClientSessionOptions = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const session = connect(origin, options);
    session.once('error', reject);
    const stream = session.request({ ':method': 'POST', ':path': '/v1/chat/completions', 'content-type': 'application/json' });
    let status = 0;
    let text = '';
    stream.once('response', (headers) => (status = Number(headers[':status'])));
    stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    stream.once('end', () => {
      session.close();
      resolve({ status, text });
    });
    stream.once('error', reject);
    stream.end(body);
  });
}

describe('the simulator with http2', () => {
  it('serves HTTP/1.1 and h2c with prior knowledge on the same port, and counts each', async () => {
    const simulator = await startSimulator({ models: [{ id: 'sim-a', outputTokens: 3 }], http2: true });
    running.push(simulator);
    const origin = new URL(simulator.baseUrl).origin;

    const overHttp1 = await fetch(`${simulator.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(overHttp1.status).toBe(200);
    expect(await overHttp1.text()).toContain('data: [DONE]');
    const overHttp2 = await askOverH2c(origin);
    expect(overHttp2.status).toBe(200);
    expect(overHttp2.text).toContain('data: [DONE]');

    expect(simulator.stats.byHttpVersion).toEqual({ '1.1': 1, '2.0': 1 });
    expect(simulator.recentRequests().map((request) => request.httpVersion)).toEqual(['1.1', '2.0']);
  });

  it('closes with an HTTP/2 stream still open', async () => {
    const simulator = await startSimulator({ models: [{ id: 'sim-a', outputTokens: 1000, interTokenDelayMs: 1000 }], http2: true });
    const session = connect(new URL(simulator.baseUrl).origin);
    session.on('error', () => undefined);
    const stream = session.request({ ':method': 'POST', ':path': '/v1/chat/completions', 'content-type': 'application/json' });
    stream.on('error', () => undefined);
    stream.end(body);
    await new Promise((resolve) => stream.once('response', resolve));
    await simulator.close();
    // The stream's end reaches the exchange after the sockets are gone: its generation stopped, counted as aborted.
    await eventually(() => simulator.stats.aborted === 1);
  });

  it('speaks HTTP/1.1 only without it', async () => {
    const simulator = await startSimulator({ models: [{ id: 'sim-a' }] });
    running.push(simulator);
    await expect(askOverH2c(new URL(simulator.baseUrl).origin)).rejects.toThrow();
  });
});

/** One streamed chat completion over HTTPS with HTTP/1.1 (node:https offers no ALPN), trusting `ca`; resolves with the event text. */
function askOverHttps1(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const outgoing = httpsRequest(url, { method: 'POST', ca, agent: false, headers: { 'content-type': 'application/json' } }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.once('end', () => resolve(text));
    });
    outgoing.once('error', reject);
    outgoing.end(body);
  });
}

describe('the simulator with tls', () => {
  it('serves HTTPS, offering h2 and http/1.1 in ALPN with http2', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'provider-sim-tls-'));
    try {
      const certFile = join(directory, 'cert.pem');
      const keyFile = join(directory, 'key.pem');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=sim', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
      const ca = readFileSync(certFile, 'utf8');
      const simulator = await startSimulator({ models: [{ id: 'sim-a', outputTokens: 3 }], http2: true, tls: { certFile, keyFile } });
      running.push(simulator);
      expect(simulator.baseUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/v1$/);

      expect(await askOverHttps1(`${simulator.baseUrl}/chat/completions`, ca)).toContain('data: [DONE]');
      const overH2 = await askOverH2c(new URL(simulator.baseUrl).origin, { ca });
      expect(overH2.status).toBe(200);
      expect(overH2.text).toContain('data: [DONE]');
      expect(simulator.stats.byHttpVersion).toEqual({ '1.1': 1, '2.0': 1 });
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
