import { afterEach, describe, expect, it } from 'vitest';
import { sendCompletion } from './support/load.js';
import { isAlive, redisAnswers, redisCli } from './support/processes.js';
import { eventually, SHARED_REDIS_PORT, SHARED_REDIS_URL, startTestCluster, type TestCluster } from './support/test-cluster.js';

const QUICK = { id: 'quick', outputTokens: 4 };

describe('the cluster test harness', () => {
  let test: TestCluster | undefined;
  afterEach(async () => {
    await test?.close();
    test = undefined;
  });

  it('stops and starts its own redis-server on the same port', async () => {
    test = await startTestCluster({ models: [QUICK], replicas: 1 });
    const redis = test.cluster.redis!;
    expect(await redisAnswers(redis.port)).toBe(true);
    await test.cluster.stopRedis();
    expect(await redisAnswers(redis.port)).toBe(false);
    await test.cluster.startRedis();
    expect(await redisAnswers(redis.port)).toBe(true);
  });

  it('gives the replicas its Redis and prefix: they join the cluster, and a drained replica leaves it for its replacement', async ({ skip }) => {
    test = await startTestCluster({ models: [QUICK], replicas: 2 });
    if (test.cluster.mode !== 'cluster') skip('the replicas run embedded (DOSROUTER_TEST_CLUSTER_MODE=off)');
    const port = test.cluster.redis!.port;
    const members = async (): Promise<string[]> => (await redisCli(port, 'ZRANGE', `${test!.redisPrefix}:v1:{replicas}:live`, '0', '-1')).sort();
    await eventually(async () => (await members()).length === 2, 15_000, 'both replicas in the cluster');
    expect(await members()).toEqual(['gateway-1', 'gateway-2']);
    await test.cluster.restartReplica(1, { graceMs: 5_000 });
    await eventually(async () => (await members()).join() === 'gateway-1,gateway-2.2', 15_000, 'gateway-2.2 in place of gateway-2');
  });

  it('on the shared Redis, keeps to a prefix of its own and deletes its keys when closed', async ({ skip }) => {
    test = await startTestCluster({ models: [QUICK], replicas: 1, redis: 'shared' });
    if (test.cluster.mode !== 'cluster') skip('the replicas run embedded (DOSROUTER_TEST_CLUSTER_MODE=off)');
    expect(test.cluster.redis).toMatchObject({ url: SHARED_REDIS_URL, started: false });
    const keys = (): Promise<string[]> => redisCli(SHARED_REDIS_PORT, '--scan', '--pattern', `${test!.redisPrefix}:*`);
    await sendCompletion(test.client(), QUICK.id, 'on-shared-redis');
    await eventually(async () => (await keys()).length > 0, 15_000, 'keys under the prefix');
    await test.close();
    expect(await keys()).toEqual([]);
    expect(await redisAnswers(SHARED_REDIS_PORT)).toBe(true);
  });

  it('reports a replica that exits without being asked to', async () => {
    const exits: string[] = [];
    test = await startTestCluster({
      models: [QUICK],
      replicas: 2,
      onUnexpectedExit: (managed, exit) => exits.push(`${managed.name} ${exit.signal}`),
    });
    process.kill(test.cluster.replicas[1]!.process.pid!, 'SIGKILL');
    await eventually(() => exits.length > 0);
    expect(exits).toEqual(['gateway-2 SIGKILL']);
    // Deliberate stops are not reported.
    await test.cluster.killReplica(0);
    await test.cluster.startReplica(0);
    expect(exits).toHaveLength(1);
  });

  it('lets nginx answer in OpenAI’s shape when no replica is up', async () => {
    test = await startTestCluster({ models: [QUICK], replicas: 1 });
    await test.cluster.stopReplica(0);
    const response = await fetch(`${test.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'nobody-home' },
      body: JSON.stringify({ model: QUICK.id, messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(response.status).toBe(502);
    expect(response.headers.get('x-should-retry')).toBe('true');
    expect(response.headers.get('x-request-id')).toBe('nobody-home');
    expect(await response.json()).toEqual({
      error: { message: 'No gateway replica could take the request.', type: 'api_error', param: null, code: 'gateway_unavailable' },
    });
  });

  it('leaves no process behind, replaced replicas included', async () => {
    test = await startTestCluster({ models: [QUICK], replicas: 2 });
    await test.cluster.restartReplica(0, { graceMs: 5_000 });
    await sendCompletion(test.client(), QUICK.id, 'before-close');
    const pids = test.pids();
    expect(pids).toHaveLength(6); // simulator, two replicas, one replaced replica, nginx, redis-server
    expect(pids.filter(isAlive)).toHaveLength(5);
    await test.close();
    expect(pids.filter(isAlive)).toEqual([]);
  });
});
