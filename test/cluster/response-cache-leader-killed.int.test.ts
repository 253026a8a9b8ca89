import OpenAI from 'openai';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestCluster, type TestCluster } from './support/test-cluster.js';

/** The backend takes 8 s to answer: long enough, on a busy machine, to kill the leader's replica while its request waits there. */
const MODEL = { id: 'slow', headersDelayMs: 8_000, outputTokens: 12 };
/** A backend that streams its answer slowly (a token every 200 ms): the leader can be killed mid-answer. */
const DRIP = { id: 'drip', interTokenDelayMs: 200, outputTokens: 30 };
const clientOf = (url: string, headers?: Record<string, string>) => new OpenAI({ apiKey: 'k', baseURL: `${url}/v1`, maxRetries: 0, timeout: 60_000, defaultHeaders: headers });

/** A stream read as it comes: its text and content chunks so far, and its end (the error, if it ended with one). */
function reading(client: OpenAI, body: OpenAI.ChatCompletionCreateParamsNonStreaming) {
  const seen = { text: '', contentChunks: 0, chunks: 0 };
  const done = client.chat.completions.create({ ...body, stream: true }).then(async (stream) => {
    for await (const chunk of stream) {
      seen.chunks += 1;
      const content = chunk.choices[0]?.delta.content;
      if (content) {
        seen.contentChunks += 1;
        seen.text += content;
      }
    }
    return seen;
  });
  return { seen, done };
}

describe('in-flight de-duplication when the leader’s replica is killed', () => {
  let cluster: TestCluster;
  let redis: Redis;
  beforeAll(async () => {
    cluster = await startTestCluster({
      models: [MODEL],
      replicas: 3,
      configure: (config) => {
        // A short lock: the dead leader's followers notice within about 2 s (plus one block of the reader).
        config.cache = { enabled: true, models: ['slow'], scope: 'shared', dedupe: { lockTtlMs: 2_000 } };
      },
    });
    redis = new Redis(cluster.cluster.redis!.url, { lazyConnect: true });
    await redis.connect();
  });
  afterAll(async () => {
    redis?.disconnect();
    await cluster?.close();
  });

  it('gives the followers on the other replicas an answer: one of them asks the backend itself', async () => {
    const [leaderReplica, ...others] = cluster.cluster.replicas;
    const body = { model: 'slow', temperature: 0, messages: [{ role: 'user' as const, content: 'who answers?' }] };
    const leader = clientOf(leaderReplica!.url).chat.completions.create(body).then(
      () => 'answered',
      () => 'failed',
    );
    await eventually(async () => (await cluster.simulatorStats()).requests === 1, 15_000, 'the leader’s request at the backend');
    const followers = others.flatMap((replica) => [0, 1].map(() => clientOf(replica.url).chat.completions.create(body)));
    // Each other replica reads the leader's flight on a connection of its own: both are following.
    await eventually(
      async () => {
        const clients = await redis.call('CLIENT', 'LIST');
        return others.every((replica) => String(clients).includes(`name=dosrouter-gateway-${replica.id}-flight`));
      },
      15_000,
      'the followers reading the leader’s flight',
    );
    // Still waiting on the backend: the leader has not answered (its answer would have been stored, not shared).
    expect((await cluster.simulatorStats()).completed).toBe(0);
    await cluster.cluster.killReplica(0);
    expect(await leader).toBe('failed');
    const answers = await Promise.all(followers);
    expect(new Set(answers.map((answer) => answer.choices[0]?.message.content)).size).toBe(1);
    expect(answers[0]!.choices[0]?.message.content?.length).toBeGreaterThan(0);
    // The dead leader's request, and one follower's that took over: the other followers shared it.
    expect((await cluster.simulatorStats()).requests).toBe(2);
  }, 90_000);
});

describe('in-flight de-duplication when the leader’s replica is killed mid-stream', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startTestCluster({
      models: [DRIP],
      replicas: 2,
      configure: (config) => {
        config.cache = { enabled: true, models: ['drip'], scope: 'shared', dedupe: { lockTtlMs: 2_000 } };
      },
    });
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it('lets followers that streamed part of the answer finish it when the leader’s replica is killed mid-stream', async () => {
    const [leaderReplica, followerReplica] = cluster.cluster.replicas;
    const body = { model: 'drip', temperature: 0, messages: [{ role: 'user' as const, content: 'killed mid-stream' }] };
    const leader = reading(clientOf(leaderReplica!.url), body).done.then(
      () => 'answered',
      () => 'failed',
    );
    // And a whole answer's leader: its followers have been sent nothing when it dies, so they always go on.
    const wholeLeader = clientOf(leaderReplica!.url).chat.completions.create(body).then(
      () => 'answered',
      () => 'failed',
    );
    await eventually(async () => (await cluster.simulatorStats()).requests === 2, 15_000, 'both leaders’ requests at the backend');
    const followers = [0, 1, 2].map(() => reading(clientOf(followerReplica!.url), body));
    const wholeFollowers = [0, 1].map(() => clientOf(followerReplica!.url).chat.completions.create(body));
    await eventually(() => followers.every((follower) => follower.seen.contentChunks >= 2), 30_000, 'every follower streamed two content chunks');
    await cluster.cluster.killReplica(0);
    expect(await leader).toBe('failed');
    await wholeLeader; // settled either way: it may have answered before the kill
    const streams = await Promise.all(followers.map((follower) => follower.done));
    const wholes = await Promise.all(wholeFollowers);
    // A clean run of the same request, from the backend (the cache bypassed).
    const clean = await reading(clientOf(followerReplica!.url, { 'x-dosrouter-cache': 'bypass' }), body).done;
    expect(clean.text.length).toBeGreaterThan(0);
    for (const stream of streams) {
      expect(stream.text).toBe(clean.text);
      expect(stream.chunks).toBe(clean.chunks);
    }
    expect(new Set(wholes.map((answer) => answer.choices[0]?.message.content)).size).toBe(1);
    expect(wholes[0]!.choices[0]?.message.content).toBe(clean.text);
  }, 120_000);
});
