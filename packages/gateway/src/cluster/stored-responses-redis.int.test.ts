import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@dosrouter/provider-sim';
import { PrivateRedisCluster, PrivateRedisServer } from '../../../shared/src/test-support/redis-server.js';
import { startClusterHarness, type ClusterHarness } from '../test-support/cluster-harness.js';
import { captureApiError, eventually } from '../test-support/harness.js';

const input = 'Remember this.';
const stored = (client: OpenAI, id: string) => client.responses.retrieve(id).then(() => true, () => false);

describe('stored responses while Redis is down', () => {
  let redisServer: PrivateRedisServer;
  let simulator: Simulator;
  let cluster: ClusterHarness;
  beforeAll(async () => {
    redisServer = await PrivateRedisServer.start();
    simulator = await startSimulator({ models: [{ id: 'm', outputTokens: 4 }] });
    cluster = await startClusterHarness({
      replicas: 1,
      redisUrl: redisServer.url,
      document: { redis: { pollIntervalMs: 200, commandTimeoutMs: 2_000 }, backends: [{ name: 'sim', baseUrl: simulator.baseUrl, models: [{ name: 'm' }] }] },
    });
  });
  afterAll(async () => {
    await cluster?.close();
    await simulator?.close();
    await redisServer?.dispose();
  });

  it('answers continuations and reads 503 responses_unavailable, still serves new requests, and stores again once Redis is back', async () => {
    const client = cluster.client(0);
    const before = await client.responses.create({ model: 'm', input });
    await eventually(() => stored(client, before.id), 10_000, 'the first response to be stored');

    await redisServer.stop();
    const continued = await captureApiError(client.responses.create({ model: 'm', input: 'Go on.', previous_response_id: before.id }));
    expect(continued).toBeInstanceOf(OpenAI.InternalServerError);
    expect(continued.status).toBe(503);
    expect(continued.code).toBe('responses_unavailable');
    expect(continued.headers.get('retry-after')).toBe('1');
    expect((await captureApiError(client.responses.retrieve(before.id))).status).toBe(503);
    // A new answer is served; it is not stored, and the log says so once.
    const during = await client.responses.create({ model: 'm', input });
    expect(during.status).toBe('completed');
    await client.responses.create({ model: 'm', input });
    await eventually(() => cluster.logs[0]!.lines.some((line) => line.message === 'a response could not be stored'), 10_000, 'the failed store to be logged');
    expect(cluster.logs[0]!.lines.filter((line) => line.message === 'a response could not be stored')).toHaveLength(1);

    await redisServer.start();
    await eventually(async () => {
      const after = await client.responses.create({ model: 'm', input });
      return stored(client, after.id);
    }, 15_000, 'responses to be stored again');
  });
});

describe('stored responses on a Redis Cluster (three masters)', () => {
  let redisCluster: PrivateRedisCluster;
  let simulator: Simulator;
  let gateways: ClusterHarness;
  beforeAll(async () => {
    redisCluster = await PrivateRedisCluster.start();
    simulator = await startSimulator({ models: [{ id: 'm', outputTokens: 4 }] });
    gateways = await startClusterHarness({
      replicas: 2,
      redisUrl: redisCluster.nodes[0]!.url,
      document: { redis: { clusterNodes: redisCluster.startupNodes, pollIntervalMs: 250 }, backends: [{ name: 'sim', baseUrl: simulator.baseUrl, models: [{ name: 'm' }] }] },
    });
  });
  afterAll(async () => {
    await gateways?.close();
    await simulator?.close();
    await redisCluster?.dispose();
  });

  it('stores, continues and deletes through either replica, the responses spread over the masters', async () => {
    const ids = [];
    for (let index = 0; index < 12; index += 1) ids.push((await gateways.client(index % 2).responses.create({ model: 'm', input: `Turn ${index}.` })).id);
    for (const [index, id] of ids.entries()) await eventually(() => stored(gateways.client((index + 1) % 2), id), 10_000, `response ${id} on the other replica`);
    const next = await gateways.client(1).responses.create({ model: 'm', input: 'More.', previous_response_id: ids[0]! });
    expect(next.previous_response_id).toBe(ids[0]);
    const holding = await Promise.all(
      redisCluster.nodes.map(async (node) => {
        const connection = new Redis(node.url);
        try {
          return (await connection.keys(`${gateways.prefix}:v1:responses:*`)).length;
        } finally {
          connection.disconnect();
        }
      }),
    );
    expect(holding.filter((count) => count > 0).length).toBeGreaterThan(1);
    await gateways.client(0).responses.delete(ids[0]!);
    expect((await captureApiError(gateways.client(1).responses.retrieve(ids[0]!))).status).toBe(404);
  });
});
