import { afterEach, describe, expect, it } from 'vitest';
import { eventually, startHarness, type Harness } from './test-support/harness.js';

/**
 * HTTP/2 to backends (`backends[].http2`): against a simulator that speaks HTTP/1.1 and h2c on one port, what the
 * simulator saw tells which protocol the gateway used.
 */

const MODEL = 'h2-model';

const running: Harness[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((harness) => harness.close()));
});

async function start(http2: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}): Promise<Harness> {
  const harness = await startHarness({
    models: [{ id: MODEL, outputTokens: 6, interTokenDelayMs: 5 }],
    simulatorHttp2: true,
    configure: (config) => {
      const backend = (config.backends as Record<string, unknown>[])[0]!;
      Object.assign(backend, http2 === undefined ? {} : { http2 }, extra);
    },
  });
  running.push(harness);
  return harness;
}

async function streamText(harness: Harness): Promise<string> {
  const stream = await harness.client().chat.completions.create({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'hi' }] });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  return text;
}

describe('HTTP/2 to backends', () => {
  describe('with http2.mode on, to an http backend', () => {
    it('sends a plain request and a stream over h2c, several streams sharing one connection', async () => {
      const harness = await start({ mode: 'on' });
      const completion = await harness.client().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
      expect(completion.choices[0]?.message.content).toBeTruthy();
      const texts = await Promise.all(Array.from({ length: 8 }, () => streamText(harness)));
      expect(texts.every((text) => text.length > 0)).toBe(true);
      expect(harness.simulator.stats.byHttpVersion).toEqual({ '2.0': 9 });
      expect(harness.simulator.recentRequests().every((request) => request.httpVersion === '2.0')).toBe(true);
      // Eight concurrent streams, at most 100 per connection: the pool did not open a connection per stream.
      expect(harness.gateway.live.current.backends.get('sim').pool.stats.connected).toBeLessThan(8);
    });

    it('opens another connection once one carries streamsPerConnection requests', async () => {
      const harness = await start({ mode: 'on', streamsPerConnection: 2 });
      const texts = await Promise.all(Array.from({ length: 6 }, () => streamText(harness)));
      expect(texts.every((text) => text.length > 0)).toBe(true);
      expect(harness.simulator.stats.byHttpVersion).toEqual({ '2.0': 6 });
      expect(harness.gateway.live.current.backends.get('sim').pool.stats.connected).toBeGreaterThanOrEqual(3);
    });

    it('still holds requests past maxConnections in the connection gate, then serves them on the shared connection', async () => {
      const harness = await start({ mode: 'on' }, { maxConnections: 2, timeouts: { connectionWaitMs: 20_000 } });
      const texts = await Promise.all(Array.from({ length: 5 }, () => streamText(harness)));
      expect(texts.every((text) => text.length > 0)).toBe(true);
      expect(harness.simulator.stats.byHttpVersion).toEqual({ '2.0': 5 });
      await eventually(() => harness.logs.accessLines().length === 5);
      const waited = harness.logs.accessLines().filter((line) => typeof line.connectionWaitMs === 'number' && line.connectionWaitMs > 0);
      expect(waited.length).toBeGreaterThanOrEqual(3);
    });
  });

  describe('with http2.mode auto, to an http backend', () => {
    it('speaks HTTP/1.1: without TLS there is nothing to negotiate', async () => {
      const harness = await start({ mode: 'auto' });
      expect(await streamText(harness)).not.toBe('');
      expect(harness.simulator.stats.byHttpVersion).toEqual({ '1.1': 1 });
      expect(harness.gateway.live.current.backends.get('sim').protocol).toBe('http1');
    });
  });

  describe('by default (http2.mode off)', () => {
    it('speaks HTTP/1.1, one request per connection', async () => {
      const harness = await start(undefined);
      await Promise.all(Array.from({ length: 3 }, () => streamText(harness)));
      expect(harness.simulator.stats.byHttpVersion).toEqual({ '1.1': 3 });
    });
  });
});
