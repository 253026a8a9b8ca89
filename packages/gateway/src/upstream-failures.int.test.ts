import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../shared/src/test-support/redis-server.js';
import { captureApiError, eventually, startHarness, type Harness } from './test-support/harness.js';

type Backends = { backends: Record<string, unknown>[] };
const messages = [{ role: 'user' as const, content: 'Tell me a story.' }];

describe('when the backend cannot be reached', () => {
  let harness: Harness;
  beforeAll(async () => {
    const port = await freePort(); // nothing listens there
    harness = await startHarness({
      models: [{ id: 'sim-model' }],
      configure: (config) => {
        (config as Backends).backends.push({ name: 'dead', baseUrl: `http://127.0.0.1:${port}/v1`, models: [{ name: 'dead-model' }, { name: 'sim-model', weight: 1 }] });
      },
    });
  });
  afterAll(() => harness.close());

  it('answers 502 with a retryable OpenAI-shaped error', async () => {
    const error = await captureApiError(harness.client().chat.completions.create({ model: 'dead-model', messages }));
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error.status).toBe(502);
    expect(error.code).toBe('upstream_unreachable');
    expect(error.headers.get('x-should-retry')).toBe('true');
  });

  it('fails over to the model’s other deployment before anything reaches the client', async () => {
    for (let index = 0; index < 12; index += 1) {
      const { response } = await harness.client().chat.completions.create({ model: 'sim-model', messages }).withResponse();
      expect(response.headers.get('x-dosrouter-deployment')).toBe('sim/sim-model');
    }
    await eventually(() => harness.logs.accessLines().filter((line) => line.model === 'sim-model').length >= 12);
    const attempts = harness.logs.accessLines().filter((line) => line.model === 'sim-model').map((line) => line.attempts);
    expect(attempts).toContain(2);
  });
});

describe('when the backend is slow or breaks', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({
      models: [
        { id: 'sim-model', outputTokens: 40 },
        { id: 'sim-slow', outputTokens: 200, interTokenDelayMs: 20 },
      ],
      configure: (config) => {
        const backend = (config as Backends).backends[0]!;
        backend.timeouts = { firstByteMs: 400, idleMs: 400 };
        // One attempt: these tests check what a single failure looks like; failover.int.test.ts covers retries.
        config.routing = { retry: { attempts: 1 } };
      },
    });
  });
  afterAll(() => harness.close());
  afterEach(() => harness.simulator.clearFaults());

  it('answers 504 when no headers arrive within the first-byte deadline', async () => {
    harness.simulator.injectFaults({ kind: 'hang' });
    const error = await captureApiError(harness.client().chat.completions.create({ model: 'sim-model', messages }));
    expect(error.status).toBe(504);
    expect(error.code).toBe('upstream_timeout');
  });

  it('answers 502 when the backend resets the connection', async () => {
    harness.simulator.injectFaults({ kind: 'reset' });
    const error = await captureApiError(harness.client().chat.completions.create({ model: 'sim-model', messages }));
    expect(error.status).toBe(502);
  });

  it('ends a stream cut after its first byte with an error event, never a silent truncation', async () => {
    harness.simulator.injectFaults({ kind: 'stream_cut' });
    const stream = await harness.client().chat.completions.create({ model: 'sim-model', messages, stream: true });
    let received = '';
    const error = await (async () => {
      for await (const chunk of stream) received += chunk.choices[0]?.delta.content ?? '';
    })().catch((caught: unknown) => caught);
    expect(received.length).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(String((error as Error).message)).toMatch(/ended the stream before the answer was complete/);
  });

  it('ends a stream that stalls past the idle deadline with an error event', async () => {
    harness.simulator.injectFaults({ kind: 'stream_stall' });
    const stream = await harness.client().chat.completions.create({ model: 'sim-model', messages, stream: true });
    const error = await (async () => {
      for await (const chunk of stream) void chunk;
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(String((error as Error).message)).toMatch(/did not answer in time \(idle between chunks\)/);
  });

  it('aborts the backend request as soon as the client disconnects', async () => {
    harness.simulator.reset();
    const controller = new AbortController();
    const stream = await harness.client().chat.completions.create({ model: 'sim-slow', messages, stream: true }, { signal: controller.signal });
    let chunks = 0;
    await (async () => {
      for await (const chunk of stream) {
        void chunk;
        chunks += 1;
        if (chunks === 3) controller.abort();
      }
    })().catch(() => undefined);
    await eventually(() => harness.simulator.stats.aborted === 1, 10_000);
    await eventually(() => harness.logs.accessLines().some((line) => line.status === 499 && line.model === 'sim-slow'), 10_000);
  });
});

describe('when a non-streaming client disconnects', () => {
  it('aborts the backend request', async () => {
    const harness = await startHarness({ models: [{ id: 'sim-late-headers', headersDelayMs: 3_000 }] });
    try {
      const controller = new AbortController();
      const call = harness.client().chat.completions.create({ model: 'sim-late-headers', messages }, { signal: controller.signal });
      await eventually(() => harness.simulator.stats.requests === 1, 10_000);
      controller.abort();
      await expect(call).rejects.toThrow();
      await eventually(() => harness.simulator.stats.aborted === 1, 10_000);
    } finally {
      await harness.close();
    }
  });
});

describe('when the backend refuses the gateway’s credential', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({
      models: [{ id: 'sim-model' }],
      configure: (config) => {
        (config as Backends).backends[0]!.apiKey = 'sk-wrong-key-9876';
      },
    });
  });
  afterAll(() => harness.close());

  it('answers 502 and shows neither the backend’s message nor any key', async () => {
    const error = await captureApiError(harness.client().chat.completions.create({ model: 'sim-model', messages }));
    expect(error.status).toBe(502);
    expect(error.code).toBe('upstream_authentication_failed');
    expect(JSON.stringify(error.error)).not.toMatch(/sk-/);
  });
});
