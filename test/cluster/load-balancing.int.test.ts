import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countBy, sendCompletion } from './support/load.js';
import { eventually, startTestCluster, type TestCluster } from './support/test-cluster.js';

const QUICK = { id: 'quick', firstTokenDelayMs: 2, outputTokens: 8 };
/** 20 words, 40 ms apart: about 800 ms from the first word to the last. */
const SLOW_STREAM = { id: 'slow-stream', firstTokenDelayMs: 50, interTokenDelayMs: 40, outputTokens: 20 };

describe('nginx in front of three gateway replicas', () => {
  let test: TestCluster;
  beforeAll(async () => {
    test = await startTestCluster({ models: [QUICK, SLOW_STREAM] });
  });
  afterAll(async () => {
    await test?.close();
  });

  it('answers its own health check', async () => {
    const response = await fetch(`${test.url}/nginx-health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('spreads requests over every replica', async () => {
    const client = test.client();
    const requestIds = Array.from({ length: 30 }, (_, index) => `spread-${index}-${randomUUID()}`);
    const replicaHeaders: (string | undefined)[] = [];
    for (const requestId of requestIds) replicaHeaders.push(await sendCompletion(client, QUICK.id, requestId));

    await eventually(() => requestIds.every((requestId) => test.replicaOf(requestId) !== undefined), 15_000, 'an access log line for every request');
    const byReplica = countBy(requestIds, (requestId) => test.replicaOf(requestId) ?? 'none');
    expect(Object.keys(byReplica).sort()).toEqual(['gateway-1', 'gateway-2', 'gateway-3']);
    for (const count of Object.values(byReplica)) expect(count).toBeGreaterThanOrEqual(5);

    // In cluster mode every response names its replica; the name agrees with the replica that logged the request.
    if (test.cluster.mode === 'cluster') {
      const loggedBy = new Map(test.accessLines().map((entry) => [entry.line.requestId, entry.replicaId]));
      expect(replicaHeaders).toEqual(requestIds.map((requestId) => loggedBy.get(requestId)));
    }
  });

  it('passes a stream through chunk by chunk, as the replica writes it', async () => {
    const client = test.client();
    const startedAt = performance.now();
    const stream = await client.chat.completions.create({
      model: SLOW_STREAM.id,
      stream: true,
      messages: [{ role: 'user', content: 'Tell me something slowly.' }],
    });
    const arrivals: number[] = [];
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) arrivals.push(performance.now() - startedAt);
    }

    expect(arrivals).toHaveLength(SLOW_STREAM.outputTokens);
    const first = arrivals[0]!;
    const last = arrivals.at(-1)!;
    // The simulator writes the 20 words over 19 × 40 ms = 760 ms. A buffering proxy would hand them over together
    // at the end; here the first word is read while most of the stream is still to come.
    expect(last - first).toBeGreaterThan(0.5 * 19 * SLOW_STREAM.interTokenDelayMs);
    // And spread out: a busy machine that stalls this process can hand over a few chunks at once, not all of them.
    const gaps = arrivals.slice(1).map((arrival, index) => arrival - arrivals[index]!);
    expect(gaps.filter((gap) => gap >= 15).length).toBeGreaterThanOrEqual(5);
  });

  it('passes the client’s X-Request-Id to the replica and back', async () => {
    const requestId = `client-chosen-${randomUUID()}`;
    const { response } = await test
      .client()
      .chat.completions.create({ model: QUICK.id, messages: [{ role: 'user', content: 'Hi' }] }, { headers: { 'x-request-id': requestId } })
      .withResponse();
    expect(response.headers.get('x-request-id')).toBe(requestId);
    await eventually(() => test.replicaOf(requestId) !== undefined && test.nginxAccessLog().some((line) => line.requestId === requestId));
  });

  it('gives a request that has no X-Request-Id nginx’s request id, the same in nginx’s and the replica’s logs', async () => {
    const response = await fetch(`${test.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: QUICK.id, messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(response.status).toBe(200);
    const requestId = response.headers.get('x-request-id') ?? '';
    expect(requestId).toMatch(/^[0-9a-f]{32}$/);
    await eventually(() => test.replicaOf(requestId) !== undefined && test.nginxAccessLog().some((line) => line.requestId === requestId));
  });

  it('refuses a body over the gateway’s 10 MiB limit with an OpenAI-shaped 413', async () => {
    const content = 'x'.repeat(10 * 1024 * 1024);
    const response = await fetch(`${test.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: QUICK.id, messages: [{ role: 'user', content }] }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'request_too_large' } });
  });

  // Last in this file: the simulator's 503 counts against the deployment in the replicas' breakers.
  it('does not resend a request that a replica answered with an error of its own', async () => {
    // Three: the replica's own retry policy (3 attempts) uses them all before it answers 503.
    await test.injectFaults([{ kind: 'unavailable', count: 3, model: QUICK.id, retryAfterSeconds: 0 }]);
    const requestId = `backend-unavailable-${randomUUID()}`;
    const error: unknown = await test
      .client()
      .chat.completions.create({ model: QUICK.id, messages: [{ role: 'user', content: 'Hi' }] }, { headers: { 'x-request-id': requestId } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(503);

    await eventually(() => test.nginxAccessLog().some((line) => line.requestId === requestId));
    const line = test.nginxAccessLog().find((entry) => entry.requestId === requestId)!;
    // One replica tried: a 503 is the gateway's answer about the backend, not a reason to ask another replica.
    expect(line.upstream.split(',')).toHaveLength(1);
    expect(line.upstreamStatus).toBe('503');
  });
});
