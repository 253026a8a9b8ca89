import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordTestSecret } from '../../shared/src/test-support/log-archive.js';
import { TEST_REDIS_URL } from '../../shared/src/test-support/redis.js';
import { startClusterHarness, type ClusterHarness } from './test-support/cluster-harness.js';
import { captureApiError, createClientKey, eventually, startHarness, SIMULATOR_KEY, type Harness } from './test-support/harness.js';
import type { StoredResponses } from './responses/stored-responses.js';

const ADMIN_KEY = `admin-${randomBytes(12).toString('hex')}`;
recordTestSecret(ADMIN_KEY);

const clientOf = (url: string, apiKey: string) => new OpenAI({ apiKey, baseURL: `${url}/v1`, maxRetries: 0, timeout: 20_000 });

/** A finished Response object, as the Responses ingress keeps it after answering. */
function finishedResponse(id: string, text: string): Record<string, unknown> {
  return {
    id,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status: 'completed',
    model: 'sim-model',
    output: [{ type: 'message', id: `msg_${id}`, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [] }] }],
    usage: { input_tokens: 5, output_tokens: 1, total_tokens: 6 },
  };
}

const keep = (responses: StoredResponses, keyId: string, id: string, text = 'Paris.') =>
  responses.keep({ response: finishedResponse(id, text), keyId, deployment: 'sim/sim-model', input: [{ role: 'user', content: 'capital of France?' }] });

const retrievable = (client: OpenAI, id: string) => () => client.responses.retrieve(id).then(() => true, () => false);

describe('GET and DELETE /v1/responses/{id} on one gateway (embedded store)', () => {
  let harness: Harness;
  let alice: OpenAI;
  let bob: OpenAI;
  let aliceId: string;
  beforeAll(async () => {
    harness = await startHarness({ models: [{ id: 'sim-model' }], adminKey: ADMIN_KEY });
    const [first, second] = [await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'alice' }), await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'bob' })];
    aliceId = first.id;
    alice = clientOf(harness.gateway.url, first.secret);
    bob = clientOf(harness.gateway.url, second.secret);
  });
  afterAll(() => harness.close());

  it('gives the key that stored a response its Response object, and deletes it in OpenAI’s shape', async () => {
    keep(harness.gateway.responses, aliceId, 'resp_getdelete1');
    const read = await alice.responses.retrieve('resp_getdelete1');
    expect(read).toMatchObject(finishedResponse('resp_getdelete1', 'Paris.'));
    expect(read.output_text).toBe('Paris.');
    const deleted = await fetch(`${harness.gateway.url}/v1/responses/resp_getdelete1`, { method: 'DELETE', headers: { authorization: `Bearer ${alice.apiKey}` } });
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toEqual({ id: 'resp_getdelete1', object: 'response', deleted: true });
    const gone = await captureApiError(alice.responses.retrieve('resp_getdelete1'));
    expect(gone).toBeInstanceOf(OpenAI.NotFoundError);
    expect(gone.error).toEqual({ message: "Response with id 'resp_getdelete1' not found.", type: 'invalid_request_error', param: null, code: 'not_found' });
    expect(await captureApiError(alice.responses.delete('resp_getdelete1'))).toBeInstanceOf(OpenAI.NotFoundError);
    // One metric label for every id, never the id itself.
    const requests = await harness.gateway.metrics.registry.getSingleMetricAsString('dosrouter_requests_total');
    expect(requests).toContain('route="/v1/responses/{id}"');
    expect(requests).not.toContain('resp_getdelete1');
  });

  it('answers another key as for a response that never existed: it can neither read nor delete it', async () => {
    keep(harness.gateway.responses, aliceId, 'resp_alices');
    const foreign = await captureApiError(bob.responses.retrieve('resp_alices'));
    const absent = await captureApiError(bob.responses.retrieve('resp_nobodys'));
    expect(foreign.status).toBe(404);
    expect({ ...foreign.error as object, message: undefined }).toEqual({ ...absent.error as object, message: undefined });
    expect((await captureApiError(bob.responses.delete('resp_alices'))).status).toBe(404);
    expect((await alice.responses.retrieve('resp_alices')).id).toBe('resp_alices');
  });

  it('refuses a caller without a key before looking anything up', async () => {
    const response = await fetch(`${harness.gateway.url}/v1/responses/resp_alices`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: 'missing_api_key' } });
  });

});

describe('a stored response past responses.store.ttlSeconds (embedded store)', () => {
  let harness: Harness;
  afterAll(() => harness.close());

  it('is forgotten: reading it answers 404', async () => {
    harness = await startHarness({ models: [{ id: 'sim-model' }], adminKey: ADMIN_KEY, configure: (config) => (config.responses = { store: { ttlSeconds: 1 } }) });
    const key = await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'dave' });
    keep(harness.gateway.responses, key.id, 'resp_expiring');
    // Read in process, as soon as the keep has run (setImmediate): the 1 s TTL leaves no room for an HTTP round trip
    // on a busy machine.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect((await harness.gateway.responses.read(key.id, 'resp_expiring')).id).toBe('resp_expiring');
    const client = clientOf(harness.gateway.url, key.secret);
    await eventually(async () => !(await retrievable(client, 'resp_expiring')()), 10_000, 'the stored response to expire');
    expect((await captureApiError(client.responses.retrieve('resp_expiring'))).status).toBe(404);
  });
});

describe('GET and DELETE /v1/responses/{id} across replicas (Redis store)', () => {
  let cluster: ClusterHarness;
  beforeAll(async () => {
    cluster = await startClusterHarness({
      replicas: 2,
      redisUrl: TEST_REDIS_URL,
      adminKey: ADMIN_KEY,
      document: {
        prober: { embedded: false },
        backends: [{ name: 'sim', baseUrl: 'http://127.0.0.1:9', apiKey: SIMULATOR_KEY, models: [{ name: 'sim-model' }] }],
      },
    });
  });
  afterAll(() => cluster.close());

  it('reads on replica 2 what replica 1 stored, and a delete on replica 2 removes it for both', async () => {
    const [one, two] = cluster.gateways;
    const key = await createClientKey(one!.url, ADMIN_KEY, { name: 'carol' });
    keep(one!.responses, key.id, 'resp_shared1');
    const onTwo = clientOf(two!.url, key.secret);
    await eventually(retrievable(onTwo, 'resp_shared1'), 10_000, 'replica 2 to read the stored response');
    expect((await onTwo.responses.retrieve('resp_shared1')).output_text).toBe('Paris.');
    await onTwo.responses.delete('resp_shared1');
    expect((await captureApiError(clientOf(one!.url, key.secret).responses.retrieve('resp_shared1'))).status).toBe(404);
  });
});
