import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { createClientKey, eventually, type Harness } from './test-support/harness.js';
import type { HoldingBackend } from './test-support/holding-backend.js';
import { leaveWhileQueued, releaseOneByOne, startHeld } from './test-support/queue-scenarios.js';

/**
 * A key's own concurrency limit against a backend that holds every request until the test lets it go: past it a
 * request waits for a slot of its key (by priority, then arrival), is let through when one of its key's requests
 * ends, never waits past the deadline (then 429 with Retry-After), leaves the queue when its client does, and
 * never delays another key.
 */

const MODEL = 'held-model';
const ADMIN_KEY = 'sk-admin-key-concurrency-0001';

const running: { harness: Harness; backend: HoldingBackend }[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map(async ({ harness, backend }) => Promise.all([backend.close(), harness.close()])));
});

async function start(saturation: Record<string, unknown> = {}) {
  const started = await startHeld({ model: MODEL, adminKey: ADMIN_KEY, saturation, simulated: [{ id: 'streamed', outputTokens: 20, interTokenDelayMs: 10 }] });
  running.push(started);
  return started;
}

const keyFor = async (harness: Harness, fields: Record<string, unknown>): Promise<string> => (await createClientKey(harness.gateway.url, ADMIN_KEY, fields)).secret;

const clientOf = (harness: Harness, secret: string): OpenAI => new OpenAI({ apiKey: secret, baseURL: `${harness.gateway.url}/v1`, maxRetries: 0, timeout: 30_000 });

/** One chat request tagged in its prompt, so the backend's arrival order says who was let through. */
function ask(harness: Harness, secret: string, tag: string, headers: Record<string, string> = {}, signal?: AbortSignal) {
  return clientOf(harness, secret).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: tag }] }, { headers, ...(signal ? { signal } : {}) });
}

const tagsOf = (backend: HoldingBackend): string[] => backend.bodies.map((body) => (body.messages as { content: string }[])[0]!.content);

const scrape = (harness: Harness): Promise<string> =>
  fetch(`${harness.gateway.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } }).then((response) => response.text());

/** Requests waiting for a slot of their key, over every key. */
async function waiting(harness: Harness): Promise<number> {
  return Number(/dosrouter_saturation_requests\{limit="key",state="waiting"\} (\d+)/.exec(await scrape(harness))?.[1] ?? NaN);
}

describe('a key at its concurrency limit', () => {
  it('queues the next request and lets it through when one of its requests ends', async () => {
    const { harness, backend } = await start({ queueTimeoutMs: 30_000 });
    const secret = await keyFor(harness, { name: 'pair', limits: { concurrency: 2 } });
    const first = [ask(harness, secret, 'one'), ask(harness, secret, 'two')];
    await eventually(() => backend.held.length === 2);
    const third = ask(harness, secret, 'three');
    await eventually(async () => (await waiting(harness)) === 1);
    expect(backend.received).toBe(2);
    backend.release(1);
    await eventually(() => backend.received === 3);
    expect(await waiting(harness)).toBe(0);
    backend.release();
    const answers = await Promise.all([...first, third]);
    expect(answers.map((answer) => answer.choices[0]!.message.content)).toEqual(['released', 'released', 'released']);
    expect(backend.mostHeld).toBe(2);
    // The wait is in the access line and in the queue-wait histogram, under the key's limit.
    await eventually(() => harness.logs.accessLines().length === 3);
    expect(harness.logs.accessLines().filter((line) => (line.queueWaitMs as number | undefined) !== undefined)).toHaveLength(1);
    expect(await scrape(harness)).toMatch(/dosrouter_queue_wait_seconds_count\{limit="key",result="admitted",priority="normal"\} 1/);
  });

  it('streams whole answers to every request of a burst, never more than the limit at the simulator at once', async () => {
    const { harness } = await start({ queueTimeoutMs: 30_000 });
    const secret = await keyFor(harness, { name: 'streams', limits: { concurrency: 2 } });
    let most = 0;
    const sampler = setInterval(() => {
      const { requests, completed, aborted } = harness.simulator.stats;
      most = Math.max(most, requests - completed - aborted);
    }, 5);
    try {
      const streams = Array.from({ length: 5 }, async (_, index) => {
        const stream = await clientOf(harness, secret).chat.completions.create({ model: 'streamed', stream: true, messages: [{ role: 'user', content: `stream ${index}` }] });
        let tokens = 0;
        for await (const chunk of stream) if (chunk.choices[0]?.delta.content) tokens += 1;
        return tokens;
      });
      expect(await Promise.all(streams)).toEqual([20, 20, 20, 20, 20]);
    } finally {
      clearInterval(sampler);
    }
    expect(most).toBeLessThanOrEqual(2);
    expect(harness.simulator.stats.requests).toBe(5);
  });

  it('refuses at the deadline with 429 and Retry-After, without sending the request on or moving a circuit', async () => {
    const { harness, backend } = await start({ queueTimeoutMs: 400 });
    const secret = await keyFor(harness, { name: 'deadline', limits: { concurrency: 1 } });
    const blocker = ask(harness, secret, 'blocker');
    await eventually(() => backend.held.length === 1);
    const error = (await ask(harness, secret, 'late').catch((caught: unknown) => caught)) as InstanceType<typeof OpenAI.APIError>;
    expect(error.status).toBe(429);
    expect(error.code).toBe('key_concurrency_exceeded');
    expect(error.headers?.get('retry-after')).toBe('1');
    backend.release();
    await blocker;
    await eventually(() => harness.logs.accessLines().length === 2);
    const late = harness.logs.accessLines().find((line) => line.status === 429)!;
    expect(late.latencyMs as number).toBeGreaterThanOrEqual(400);
    // Not held much past it (a generous bound for a busy machine), and never sent to the backend.
    expect(late.latencyMs as number).toBeLessThan(5_000);
    expect(backend.received).toBe(1);
    expect(harness.gateway.cluster.breakers.states().get(`held/${MODEL}`)).toBe('closed');
    expect(await scrape(harness)).toMatch(/dosrouter_queue_wait_seconds_count\{limit="key",result="timeout",priority="normal"\} 1/);
  });

  it("refuses at once with 429 and Retry-After when the key's queue is full", async () => {
    const { harness, backend } = await start({ queueTimeoutMs: 30_000, maxWaiting: 1 });
    const secret = await keyFor(harness, { name: 'full', limits: { concurrency: 1 } });
    const blocker = ask(harness, secret, 'blocker');
    await eventually(() => backend.held.length === 1);
    const queued = ask(harness, secret, 'queued');
    await eventually(async () => (await waiting(harness)) === 1);
    const error = (await ask(harness, secret, 'refused').catch((caught: unknown) => caught)) as InstanceType<typeof OpenAI.APIError>;
    expect(error.status).toBe(429);
    expect(error.code).toBe('key_concurrency_exceeded');
    expect(Number(error.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await releaseOneByOne(backend, 1);
    backend.release();
    await Promise.all([blocker, queued]);
    expect(tagsOf(backend)).toEqual(['blocker', 'queued']);
  });

  it('frees the place of a client that disconnects while queued: the next request gets the slot', async () => {
    const { harness, backend } = await start({ queueTimeoutMs: 30_000 });
    const secret = await keyFor(harness, { name: 'leaving', limits: { concurrency: 1 } });
    const { blocker, staying } = await leaveWhileQueued(backend, () => waiting(harness), (tag, signal) => ask(harness, secret, tag, {}, signal));
    expect(((await staying) as OpenAI.ChatCompletion).choices[0]!.message.content).toBe('released');
    await blocker;
    expect(tagsOf(backend)).toEqual(['blocker', 'staying']);
  });

  it("lets a high-priority request overtake the key's queued normal ones, in arrival order within each class", async () => {
    const { harness, backend } = await start({ queueTimeoutMs: 30_000 });
    const secret = await keyFor(harness, { name: 'mixed', limits: { concurrency: 1 }, queue: { priorityHeader: true } });
    const blocker = ask(harness, secret, 'blocker');
    await eventually(() => backend.held.length === 1);
    const queued: Promise<unknown>[] = [];
    for (let index = 0; index < 3; index += 1) {
      queued.push(ask(harness, secret, `normal ${index}`));
      await eventually(async () => (await waiting(harness)) === index + 1);
    }
    const urgent = ask(harness, secret, 'high', { 'x-dosrouter-priority': 'high' });
    await eventually(async () => (await waiting(harness)) === 4);
    await releaseOneByOne(backend, 4);
    backend.release();
    await Promise.all([blocker, urgent, ...queued]);
    expect(tagsOf(backend)).toEqual(['blocker', 'high', 'normal 0', 'normal 1', 'normal 2']);
  });

  it("does not delay another key's requests while its own wait", async () => {
    const { harness, backend } = await start({ queueTimeoutMs: 30_000 });
    const limited = await keyFor(harness, { name: 'limited', limits: { concurrency: 1 } });
    const other = await keyFor(harness, { name: 'other', limits: { concurrency: 1 } });
    const blocker = ask(harness, limited, 'blocker');
    await eventually(() => backend.held.length === 1);
    const queued = [ask(harness, limited, 'queued 0'), ask(harness, limited, 'queued 1')];
    await eventually(async () => (await waiting(harness)) === 2);
    const unrelated = ask(harness, other, 'other key');
    // It reaches the backend at once, while the first key's requests still wait.
    await eventually(() => backend.received === 2);
    expect(tagsOf(backend)).toEqual(['blocker', 'other key']);
    expect(await waiting(harness)).toBe(2);
    while (backend.received < 4) {
      const before = backend.received;
      backend.release();
      await eventually(() => backend.received > before);
    }
    backend.release();
    await Promise.all([blocker, unrelated, ...queued]);
    expect(tagsOf(backend).slice(2)).toEqual(['queued 0', 'queued 1']);
  });
});
