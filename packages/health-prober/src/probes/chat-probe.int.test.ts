import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@dosrouter/provider-sim';
import { probeChat } from './chat-probe.js';

describe('the chat probe', () => {
  let simulator: Simulator;
  beforeAll(async () => {
    simulator = await startSimulator({
      models: [
        { id: 'chat-model', firstTokenDelayMs: 80 },
        { id: 'slow-stream-model', firstTokenDelayMs: 20, interTokenDelayMs: 40, outputTokens: 5 },
      ],
      apiKey: 'sk-probe-key',
    });
  });
  beforeEach(() => simulator.reset());
  afterAll(() => simulator.close());
  const target = (overrides: Partial<Parameters<typeof probeChat>[0]> = {}) => ({
    baseUrl: simulator.baseUrl,
    headers: { authorization: 'Bearer sk-probe-key' },
    upstreamModel: 'chat-model',
    timeoutMs: 2_000,
    ...overrides,
  });
  const lastBody = () => simulator.recentRequests().at(-1)?.body;

  it('passes and reports the time to the first token', async () => {
    const result = await probeChat(target());
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(result.ttftMs).toBeGreaterThanOrEqual(70);
    expect(result.latencyMs).toBeGreaterThanOrEqual(result.ttftMs ?? Infinity);
  });

  it('times the first token while the rest of the stream is still on the way', async () => {
    const result = await probeChat(target({ upstreamModel: 'slow-stream-model' }));
    expect(result.ok).toBe(true);
    // Four more tokens at 40 ms each follow the first one.
    expect(result.latencyMs - (result.ttftMs ?? Infinity)).toBeGreaterThanOrEqual(120);
  });

  it('sends a small max_tokens budget to a normal model', async () => {
    await probeChat(target());
    expect(lastBody()).toMatchObject({ model: 'chat-model', stream: true, max_tokens: 16 });
    expect(lastBody()).not.toHaveProperty('max_completion_tokens');
    expect(lastBody()).not.toHaveProperty('reasoning_effort');
  });

  it('sends max_completion_tokens and a low reasoning effort to a reasoning model', async () => {
    expect(await probeChat(target({ reasoning: true }))).toMatchObject({ ok: true });
    expect(lastBody()).toMatchObject({ stream: true, max_completion_tokens: 64, reasoning_effort: 'low' });
    expect(lastBody()).not.toHaveProperty('max_tokens');
  });

  it('fails with the status when the credential is refused', async () => {
    const result = await probeChat(target({ headers: {} }));
    expect(result).toMatchObject({ ok: false, status: 401 });
    expect(result.reason).toMatch(/^status 401/);
  });

  it('fails when nothing listens', async () => {
    const result = await probeChat(target({ baseUrl: 'http://127.0.0.1:1/v1' }));
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/^unreachable/);
  });

  describe('when the backend misbehaves', () => {
    it('fails with the status on a server error', async () => {
      simulator.injectFaults({ kind: 'server_error' });
      expect(await probeChat(target())).toMatchObject({ ok: false, status: 500, reason: 'status 500 (server_error)' });
    });

    it('gives up on a hung backend when the timeout ends', async () => {
      simulator.injectFaults({ kind: 'hang' });
      const result = await probeChat(target({ timeoutMs: 300 }));
      expect(result).toMatchObject({ ok: false, reason: 'no answer within 300 ms' });
      expect(result.latencyMs).toBeLessThan(300 + 3_000); // the timeout, and room for a busy machine
    });

    it('gives up on a stalled stream when the timeout ends', async () => {
      simulator.injectFaults({ kind: 'stream_stall' });
      const result = await probeChat(target({ timeoutMs: 300 }));
      expect(result).toMatchObject({ ok: false, status: 200, reason: 'stream did not finish within 300 ms' });
      expect(result.latencyMs).toBeLessThan(300 + 3_000); // the timeout, and room for a busy machine
    });

    it('fails when the stream finishes without a token', async () => {
      simulator.injectFaults({ kind: 'empty' });
      const result = await probeChat(target());
      expect(result).toMatchObject({ ok: false, status: 200, reason: 'stream finished without a token (finish_reason stop)' });
      expect(result.ttftMs).toBeUndefined();
    });

    it('fails when the stream is cut before [DONE]', async () => {
      simulator.injectFaults({ kind: 'stream_cut' });
      const result = await probeChat(target());
      expect(result).toMatchObject({ ok: false, status: 200 });
      expect(result.reason).toMatch(/^stream broke: terminated/);
      // The cut came after the first tokens, which were timed.
      expect(result.ttftMs).toBeGreaterThanOrEqual(70);
    });

    it('fails when an event is not JSON', async () => {
      simulator.injectFaults({ kind: 'malformed_chunk' });
      expect(await probeChat(target())).toMatchObject({ ok: false, reason: 'stream event is not JSON' });
    });
  });

  describe('when a backend streams what the simulator does not', () => {
    let events: string[];
    let contentType: string;
    let server: Server;
    let baseUrl: string;
    beforeAll(async () => {
      server = createServer((request, response) => {
        request.resume();
        response.writeHead(200, { 'content-type': contentType });
        response.end(events.map((data) => `data: ${data}\r\n\r\n`).join(''));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`;
    });
    beforeEach(() => {
      contentType = 'text/event-stream; charset=utf-8';
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const chunk = (delta: object, finishReason: string | null = null) =>
      JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finishReason }] });

    it('counts reasoning content as the first token', async () => {
      events = [chunk({ role: 'assistant', content: '' }), chunk({ reasoning_content: 'The user wants' }), chunk({}, 'length')];
      expect(await probeChat(target({ baseUrl }))).toMatchObject({ ok: true, status: 200 });
    });

    it('counts a tool call as the first token', async () => {
      events = [chunk({ role: 'assistant', tool_calls: [{ index: 0, id: 'call_1', type: 'function' }] }), chunk({}, 'tool_calls')];
      expect(await probeChat(target({ baseUrl }))).toMatchObject({ ok: true });
    });

    it('says so when a reasoning model spends its whole budget thinking', async () => {
      events = [chunk({ role: 'assistant', content: '' }), chunk({}, 'length'), '[DONE]'];
      const result = await probeChat(target({ baseUrl, reasoning: true }));
      expect(result.ok).toBe(false);
      expect(result.reason).toMatch(/^no token within 64 completion tokens \(finish_reason length\)/);
    });

    it('fails on an error event in the stream', async () => {
      events = [JSON.stringify({ error: { message: 'Overloaded', type: 'overloaded_error' } })];
      expect(await probeChat(target({ baseUrl }))).toMatchObject({ ok: false, reason: 'stream reported an error (overloaded_error)' });
    });

    it('fails when the answer is not an event stream', async () => {
      contentType = 'application/json';
      events = [];
      expect(await probeChat(target({ baseUrl }))).toMatchObject({
        ok: false,
        status: 200,
        reason: 'answer is not an event stream (content-type application/json)',
      });
    });
  });
});
