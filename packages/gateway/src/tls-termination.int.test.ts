import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagedProcess, findExecutable, freePort } from '../../../scripts/cluster/processes.mjs';
import { eventually, startHarness, type Harness } from './test-support/harness.js';

const OPERATIONS_DOC = fileURLToPath(new URL('../../../docs/operations.md', import.meta.url));

/** The nginx block docs/operations.md shows for TLS terminated at the load balancer, as written there. */
function documentedTlsServerBlock(): string {
  const text = readFileSync(OPERATIONS_DOC, 'utf8');
  const section = text.slice(text.indexOf('**At the load balancer**'));
  const block = /```nginx\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('docs/operations.md has no nginx block after "At the load balancer"');
  return block;
}

describe('TLS terminated at nginx, as docs/operations.md shows it', () => {
  const directory = mkdtempSync(join(tmpdir(), 'dosrouter-tls-lb-'));
  let harness: Harness;
  let nginx: ManagedProcess;
  let url: string;
  let certificate: string;

  beforeAll(async () => {
    harness = await startHarness({ models: [{ id: 'sim-model', outputTokens: 6 }] });
    const certFile = join(directory, 'fullchain.pem');
    const keyFile = join(directory, 'privkey.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=llm.example.com', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
    certificate = readFileSync(certFile, 'utf8');
    const port = await freePort();
    // The documented block, with this test's port and files; everything else as written.
    const server = documentedTlsServerBlock()
      .replace(/listen 443 /, `listen 127.0.0.1:${port} `)
      .replace(/ssl_certificate +\S+;/, `ssl_certificate ${certFile};`)
      .replace(/ssl_certificate_key +\S+;/, `ssl_certificate_key ${keyFile};`);
    const gatewayPort = new URL(harness.gateway.url).port;
    writeFileSync(
      join(directory, 'nginx.conf'),
      [
        process.getuid?.() === 0 ? 'user root;' : '',
        'worker_processes 1;',
        'pid nginx.pid;',
        'daemon off;',
        'error_log stderr warn;',
        'events { worker_connections 256; }',
        'http {',
        '  access_log off;',
        `  upstream dosrouter_gateways { server 127.0.0.1:${gatewayPort}; keepalive 8; }`,
        server,
        '}',
        '',
      ].join('\n'),
    );
    nginx = new ManagedProcess({
      name: 'nginx-tls',
      command: findExecutable('nginx', process.env.NGINX),
      args: ['-p', `${directory}/`, '-c', join(directory, 'nginx.conf'), '-e', 'stderr'],
      environment: process.env,
      cwd: directory,
    });
    url = `https://127.0.0.1:${port}`;
    const trusting = new Agent({ connect: { ca: certificate } });
    await eventually(async () => (await undiciFetch(`${url}/healthz`, { dispatcher: trusting }).catch(() => undefined))?.status === 200, 10_000).catch((error: unknown) => {
      throw new Error(`${String(error)}; nginx said: ${nginx.stderrTail}`);
    });
  });
  afterAll(async () => {
    await nginx?.stop({ signal: 'SIGQUIT', timeoutMs: 5_000 });
    await harness?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('answers and streams through nginx over HTTPS to the official client, which trusts only that certificate', async () => {
    const client = new OpenAI({
      apiKey: 'client-key-not-forwarded',
      baseURL: `${url}/v1`,
      maxRetries: 0,
      fetchOptions: { dispatcher: new Agent({ connect: { ca: certificate } }) } as OpenAI['fetchOptions'],
    });
    const answer = await client.chat.completions.create({ model: 'sim-model', messages: [{ role: 'user', content: 'over TLS' }] });
    expect(answer.choices[0]?.message.content?.length).toBeGreaterThan(0);
    const stream = await client.chat.completions.create({ model: 'sim-model', stream: true, messages: [{ role: 'user', content: 'stream over TLS' }] });
    let words = 0;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) words += 1;
      finish ??= chunk.choices[0]?.finish_reason;
    }
    expect(words).toBe(6);
    expect(finish).toBe('stop');
    // A client that does not trust the certificate is refused by the TLS handshake.
    const untrusting = new OpenAI({ apiKey: 'k', baseURL: `${url}/v1`, maxRetries: 0 });
    await expect(untrusting.models.list()).rejects.toThrow(/Connection error/);
  });
});
