import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@dosrouter/provider-sim';
import { TEST_REDIS_URL } from '../../shared/src/test-support/redis.js';
import { startClusterHarness, type ClusterHarness } from './test-support/cluster-harness.js';
import { eventually, startHarness, type Harness } from './test-support/harness.js';

/** A backend slow enough that identical requests overlap: headers after 400 ms, then tokens 20 ms apart. */
const SLOW = { id: 'slow', headersDelayMs: 400, interTokenDelayMs: 20, outputTokens: 12 };
const body = (content: string) => ({ model: 'slow', temperature: 0, messages: [{ role: 'user' as const, content }] });

async function streamed(client: OpenAI, content: string): Promise<{ text: string; chunks: number; cache: string | null }> {
  const { data, response } = await client.chat.completions.create({ ...body(content), stream: true }).withResponse();
  let text = '';
  let chunks = 0;
  for await (const chunk of data) {
    chunks += 1;
    text += chunk.choices[0]?.delta.content ?? '';
  }
  return { text, chunks, cache: response.headers.get('x-dosrouter-cache') };
}

describe('in-flight de-duplication in embedded mode', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({
      models: [SLOW],
      configure: (config) => {
        (config as { cache?: unknown }).cache = { enabled: true, models: ['slow'] };
        (config as { routing?: unknown }).routing = { recovery: 'off', retry: { attempts: 1 } };
        (config as { auth?: unknown }).auth = { mode: 'open' };
      },
    });
  });
  afterAll(() => harness.close());
  beforeEach(() => harness.simulator.reset());

  it('sends ten identical concurrent requests to the backend once, and each gets the whole answer', async () => {
    const client = harness.client();
    const answers = await Promise.all(Array.from({ length: 10 }, () => client.chat.completions.create(body('together')).withResponse()));
    expect(harness.simulator.stats.requests).toBe(1);
    const contents = new Set(answers.map(({ data }) => data.choices[0]?.message.content));
    expect(contents.size).toBe(1);
    expect([...contents][0]!.length).toBeGreaterThan(0);
    expect(answers.map(({ response }) => response.headers.get('x-dosrouter-cache')).sort()).toEqual([...Array<string>(9).fill('hit'), 'miss']);
  });

  it('streams the leader’s events to the followers as they arrive', async () => {
    const client = harness.client();
    const results = await Promise.all(Array.from({ length: 6 }, () => streamed(client, 'streamed together')));
    expect(harness.simulator.stats.requests).toBe(1);
    expect(new Set(results.map((result) => result.text)).size).toBe(1);
    expect(new Set(results.map((result) => result.chunks)).size).toBe(1);
    expect(results[0]!.text.length).toBeGreaterThan(0);
  });

  it('lets a follower whose client leaves go without harming the others', async () => {
    const client = harness.client();
    const leader = streamed(client, 'one leaves');
    await eventually(() => harness.simulator.stats.requests === 1, 10_000, 'the leader’s request at the backend');
    const leaving = new AbortController();
    // A follower that reads one event and hangs up.
    const leaver = client.chat.completions.create({ ...body('one leaves'), stream: true }, { signal: leaving.signal }).then(async (stream) => {
      for await (const _chunk of stream) {
        leaving.abort();
        break;
      }
    });
    const stayers = Array.from({ length: 3 }, () => streamed(client, 'one leaves'));
    await leaver.catch(() => undefined);
    const results = await Promise.all([leader, ...stayers]);
    expect(new Set(results.map((result) => result.text)).size).toBe(1);
    expect(harness.simulator.stats.requests).toBe(1);
  });

  it('sends a follower to the backend itself when the leader fails before its answer began', async () => {
    harness.simulator.injectFaults({ kind: 'server_error', count: 1 });
    const client = harness.client();
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => client.chat.completions.create(body('leader fails'))));
    // The leader's client gets the error; one follower leads next and the others share its answer.
    expect(results.filter((result) => result.status === 'rejected')).toHaveLength(1);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(3);
    expect(harness.simulator.stats.requests).toBe(2);
  });

  it('lets streamed followers take over an answer whose leader broke mid-stream: they get it whole, the leader the error event', async () => {
    const client = harness.client();
    // The leader's stream is cut after 4 token events (recovery is off: its client gets the error event).
    harness.simulator.injectFaults({ kind: 'stream_cut', afterTokens: 4 });
    const leader = streamed(client, 'clean reference').then(
      () => 'answered',
      (error: unknown) => String(error),
    );
    await eventually(() => harness.simulator.stats.requests === 1, 10_000, 'the leader’s request at the backend');
    const results = await Promise.all(Array.from({ length: 3 }, () => streamed(client, 'clean reference')));
    expect(await leader).toMatch(/interrupted|broke|stream/i);
    // The leader's request, and each follower's own once the shared stream broke.
    expect(harness.simulator.stats.requests).toBe(4);
    // Neither the broken answer nor the taken-over ones were stored: this one is made by the backend, unbroken.
    const clean = await streamed(client, 'clean reference');
    expect(clean.cache).toBe('miss');
    expect(clean.text.length).toBeGreaterThan(0);
    // Each follower's answer is the clean one, as one stream: the same text in as many chunks (no event twice).
    for (const result of results) {
      expect(result.text).toBe(clean.text);
      expect(result.chunks).toBe(clean.chunks);
    }
  });
});

describe('a follower taking over a broken shared stream, refused by its key’s limits', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({
      models: [SLOW],
      configure: (config) => {
        // Hits skip admission: a follower is admitted only when it takes over, and one request a minute is spent.
        (config as { cache?: unknown }).cache = { enabled: true, models: ['slow'], hitsCountAgainstRateLimit: false };
        (config as { limits?: unknown }).limits = { perKey: { requestsPerMinute: 1 } };
        (config as { routing?: unknown }).routing = { recovery: 'off', retry: { attempts: 1 } };
        (config as { auth?: unknown }).auth = { mode: 'open' };
      },
    });
  });
  afterAll(() => harness.close());

  it('ends the follower’s open stream with the limit’s error event', async () => {
    const client = harness.client();
    harness.simulator.injectFaults({ kind: 'stream_cut', afterTokens: 4 });
    const leader = streamed(client, 'limited').then(
      () => 'answered',
      () => 'failed',
    );
    await eventually(() => harness.simulator.stats.requests === 1, 10_000, 'the leader’s request at the backend');
    const follower = await streamed(client, 'limited').then(
      () => 'answered',
      (error: unknown) => String(error),
    );
    expect(await leader).toBe('failed');
    expect(follower).toMatch(/rate limit|requests per minute|limit/i);
    expect(harness.simulator.stats.requests).toBe(1);
  });
});

describe('in-flight de-duplication across replicas', () => {
  let simulator: Simulator;
  let cluster: ClusterHarness;
  beforeAll(async () => {
    simulator = await startSimulator({ models: [SLOW] });
    cluster = await startClusterHarness({
      replicas: 3,
      redisUrl: TEST_REDIS_URL,
      document: {
        prober: { embedded: false },
        auth: { mode: 'open' },
        backends: [{ name: 'sim', baseUrl: simulator.baseUrl, models: [{ name: 'slow', capabilities: ['streaming'] }] }],
        cache: { enabled: true, models: ['slow'], scope: 'shared' },
      },
    });
  });
  afterAll(async () => {
    await cluster?.close();
    await simulator?.close();
  });

  it.each([true, false])('sends 50 identical concurrent requests (stream: %s) on 3 replicas to the backend once, and all 50 get the whole answer', async (stream) => {
    simulator.reset();
    const content = `fifty at once, stream ${stream}`;
    const texts = await Promise.all(
      Array.from({ length: 50 }, (_, index) => {
        const client = cluster.client(index % 3, { apiKey: `client-${index}` });
        return stream ? streamed(client, content).then((result) => result.text) : client.chat.completions.create(body(content)).then((answer) => answer.choices[0]?.message.content ?? '');
      }),
    );
    expect(simulator.stats.requests).toBe(1);
    expect(new Set(texts).size).toBe(1);
    expect(texts[0]!.length).toBeGreaterThan(0);
  });
});
