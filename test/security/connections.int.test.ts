import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect, type Socket } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordTestSecret } from '../../packages/shared/src/test-support/log-archive.js';
import { captureApiError, eventually } from '../../packages/gateway/src/test-support/harness.js';
import { startGatewayProcess, type GatewayProcess } from './support/gateway-process.js';

const backends = [{ name: 'sim', simulator: {}, models: [{ name: 'fast' }] }];
const messages = [{ role: 'user' as const, content: 'hello' }];

/**
 * Opens a raw connection to the gateway and sends `head`; resolves once connected. `halfOpen` keeps the client's
 * side open after the gateway ended its own, as an idle or hostile client does.
 */
async function rawConnection(port: number, head: string, halfOpen = false): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: halfOpen });
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  // Writes after the gateway closed fail with EPIPE or ECONNRESET: that is the close under test, not a failure.
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(head);
  return { socket, received: () => text, closed };
}

const hugeUnauthenticatedHead =
  'POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer sk-not-a-key\r\ncontent-type: application/json\r\ncontent-length: 100000000000\r\n\r\n';

describe('an oversized body, with the default lingering close', () => {
  let gateway: GatewayProcess;
  beforeAll(async () => {
    gateway = await startGatewayProcess({ logging: { level: 'info' }, prober: { embedded: false }, backends });
  });
  afterAll(() => gateway.close());

  it('reaches the openai SDK as its 413 API error on the first try, and the gateway once', async () => {
    // SDK retries on: a connection error would be retried, and counted more than once at the gateway.
    const client = new OpenAI({ apiKey: 'unused', baseURL: `${gateway.url}/v1`, maxRetries: 2 });
    const content = 'x'.repeat(11 * 1024 * 1024);
    // Before the lingering close, most of these failed with APIConnectionError (the reset beat the answer).
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const error = await captureApiError(client.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content }] }));
      expect(error).not.toBeInstanceOf(OpenAI.APIConnectionError);
      expect(error.status).toBe(413);
      expect(error.code).toBe('request_too_large');
      await eventually(() => gateway.accessLines().length === attempt);
    }
    expect(gateway.accessLines().map((line) => line.status)).toEqual([413, 413, 413]);
    const completion = await client.chat.completions.create({ model: 'fast', messages });
    expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
  });

  it('reaches curl as a 413, which then does not send the body (Expect: 100-continue)', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'dosrouter-curl-'));
    try {
      const path = join(directory, 'body.json');
      writeFileSync(path, JSON.stringify({ model: 'fast', messages: [{ role: 'user', content: 'x'.repeat(11 * 1024 * 1024) }] }));
      const readBefore = gateway.bytesRead();
      const { stdout } = await promisify(execFile)('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'content-type: application/json', '--data-binary', `@${path}`, `${gateway.url}/v1/chat/completions`]);
      expect(stdout).toBe('413');
      // Refused from its content-length before "100 Continue" invited the body: little of it was sent.
      expect(gateway.bytesRead() - readBefore).toBeLessThan(1024 * 1024);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('refused requests, with lingering bounds of 1 s and 1 MiB', () => {
  const adminKey = `admin-${randomBytes(12).toString('hex')}`;
  recordTestSecret(adminKey);
  const lingerMs = 1_000;
  const lingerBytes = 1024 * 1024;
  let gateway: GatewayProcess;
  let otherClient: OpenAI;
  let otherKey: string;
  beforeAll(async () => {
    gateway = await startGatewayProcess(
      { logging: { level: 'info' }, prober: { embedded: false }, auth: { mode: 'keys' }, server: { lingeringClose: { timeoutMs: lingerMs, maxBytes: lingerBytes } }, backends },
      { DOSROUTER_ADMIN_KEY: adminKey },
    );
    const created = await fetch(`${gateway.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'other client' }),
    });
    const { secret } = (await created.json()) as { secret: string };
    recordTestSecret(secret);
    otherKey = secret;
    otherClient = new OpenAI({ apiKey: secret, baseURL: `${gateway.url}/v1`, maxRetries: 0 });
  });
  afterAll(() => gateway.close());

  it('answers a slow upload of a huge declared body with a bad key 401 at once, and closes within the linger time', async () => {
    const connection = await rawConnection(gateway.port, hugeUnauthenticatedHead);
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    const trickle = setInterval(() => connection.socket.writable && connection.socket.write(chunk), 20);
    try {
      await eventually(() => connection.received().includes('\r\n\r\n'), 5_000);
      expect(connection.received()).toMatch(/^HTTP\/1\.1 401 /);
      expect(connection.received()).toMatch(/\r\nconnection: close\r\n/i);
      const answeredAt = Date.now();
      // Before: the connection stayed open, the body drained, until requestTimeoutMs (60 s).
      await Promise.race([connection.closed, new Promise((_, reject) => setTimeout(() => reject(new Error('still open')), lingerMs + 9_000))]);
      expect(Date.now() - answeredAt).toBeLessThan(lingerMs + 9_000);
      // Another client is served meanwhile and after.
      const completion = await otherClient.chat.completions.create({ model: 'fast', messages });
      expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
    } finally {
      clearInterval(trickle);
      connection.socket.destroy();
    }
  });

  /** Uploads as fast as the connection takes it, for at most 10 s or until the gateway closes it; answers what it read. */
  async function uploadUntilClosed(head: string): Promise<{ closed: boolean; received: string; gatewayRead: number }> {
    const readBefore = gateway.bytesRead();
    const connection = await rawConnection(gateway.port, head);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let open = true;
    void connection.closed.then(() => (open = false));
    const giveUpAt = Date.now() + 10_000;
    try {
      while (open && Date.now() < giveUpAt) {
        if (!connection.socket.write(chunk)) await Promise.race([new Promise((resolve) => connection.socket.once('drain', resolve)), connection.closed]);
      }
    } finally {
      connection.socket.destroy();
    }
    return { closed: !open, received: connection.received(), gatewayRead: gateway.bytesRead() - readBefore };
  }

  it('reads at most the linger byte bound of a fast upload after its 401', async () => {
    // Before, the gateway read all of it, until requestTimeoutMs.
    const upload = await uploadUntilClosed(hugeUnauthenticatedHead);
    expect(upload.closed).toBe(true);
    expect(upload.received).toMatch(/^HTTP\/1\.1 401 /);
    // The bound, plus what the parser took before the answer and one read's worth past the bound.
    expect(upload.gatewayRead).toBeLessThan(lingerBytes + 512 * 1024);
  });

  it('invites a body with 100 Continue only when it is read: an unauthenticated one is refused first', async () => {
    const expectContinue = 'POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\nexpect: 100-continue\r\n';
    const refused = await rawConnection(gateway.port, `${expectContinue}authorization: Bearer sk-not-a-key\r\ncontent-length: 11534336\r\n\r\n`);
    await eventually(() => refused.received().includes('\r\n\r\n'));
    expect(refused.received()).toMatch(/^HTTP\/1\.1 401 /);
    refused.socket.destroy();

    const body = JSON.stringify({ model: 'fast', messages });
    const accepted = await rawConnection(gateway.port, `${expectContinue}authorization: Bearer ${otherKey}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n`);
    try {
      await eventually(() => accepted.received().includes('\r\n\r\n'));
      expect(accepted.received()).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\n$/);
      accepted.socket.write(body);
      await eventually(() => accepted.received().includes('HTTP/1.1 200 '));
    } finally {
      accepted.socket.destroy();
    }
  });

  it('bounds the rest of a body sent with a request answered without reading it (GET /healthz)', async () => {
    // A keep-alive answer: Node reads the rest of the body to reach the next request, at most the linger bound.
    const upload = await uploadUntilClosed('GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 100000000000\r\n\r\n');
    expect(upload.closed).toBe(true);
    // The gateway closes with the client's bytes still unread, so its kernel resets the connection, and a client
    // that had not yet read the 200 from its socket loses it (what a lingering close can only make unlikely, and a
    // busy machine makes likely): when anything arrived, it is the 200.
    if (upload.received !== '') expect(upload.received).toMatch(/^HTTP\/1\.1 200 /);
    expect(upload.gatewayRead).toBeLessThan(lingerBytes + 512 * 1024);
  });

  it('closes sockets answered 400 that stay idle: file descriptors return to their baseline', async () => {
    const baseline = gateway.openFileDescriptors();
    const connections = await Promise.all(Array.from({ length: 250 }, () => rawConnection(gateway.port, 'NONSENSE / HTTP/9.9\r\n\r\n', true)));
    try {
      await eventually(() => connections.every((connection) => connection.received().startsWith('HTTP/1.1 400 Bad Request\r\n')), 10_000);
      // The clients keep their side open and say nothing more; the gateway closes its sockets after the linger.
      // Before, each stayed half-closed (FIN-WAIT-2), holding a descriptor, until its client went away.
      await eventually(() => gateway.openFileDescriptors() <= baseline + 2, lingerMs + 14_000);
    } finally {
      for (const connection of connections) connection.socket.destroy();
    }
    const completion = await otherClient.chat.completions.create({ model: 'fast', messages });
    expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
  });
});
