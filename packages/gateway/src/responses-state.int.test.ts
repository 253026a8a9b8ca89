import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordTestSecret } from '../../shared/src/test-support/log-archive.js';
import { outputText, weatherTool } from './test-support/responses-fixtures.js';
import { TEST_REDIS_URL } from '../../shared/src/test-support/redis.js';
import { startSimulator, type Simulator } from '@dosrouter/provider-sim';
import { startClusterHarness, type ClusterHarness } from './test-support/cluster-harness.js';
import { captureApiError, createClientKey, eventually, SIMULATOR_KEY, startHarness, type Harness } from './test-support/harness.js';

const ADMIN_KEY = `admin-${randomBytes(12).toString('hex')}`;
recordTestSecret(ADMIN_KEY);
const MODEL = 'sim-model';

const clientOf = (url: string, apiKey: string) => new OpenAI({ apiKey, baseURL: `${url}/v1`, maxRetries: 0, timeout: 20_000 });


/** The chat bodies the simulator received, newest last. */
const chatBodies = (simulator: Simulator) =>
  simulator
    .recentRequests()
    .filter((request) => request.path === '/v1/chat/completions')
    .map((request) => request.body as { messages: unknown[] });

/** Two deployments of the model on one simulator, taken in turn (round-robin), so that only pinning keeps a conversation on one. */
function twoDeployments(config: Record<string, unknown>): void {
  const backends = config.backends as Record<string, unknown>[];
  backends.push({ ...backends[0], name: 'spare' });
  config.routing = { strategy: 'round-robin' };
}

/** Asks with a tool, answers the call with `output` continuing the first response; both Responses. */
async function functionCallTurns(first: OpenAI, second: OpenAI, output = '{"temperature":21}') {
  const asked = await first.responses.create({ model: MODEL, input: 'Weather in Paris?', tools: [weatherTool], tool_choice: 'required' }).withResponse();
  const call = asked.data.output.find((item) => item.type === 'function_call');
  if (!call) throw new Error('the first turn did not call the function');
  const answered = await second.responses
    .create({ model: MODEL, tools: [weatherTool], previous_response_id: asked.data.id, input: [{ type: 'function_call_output', call_id: call.call_id, output }] })
    .withResponse();
  return { asked, call, answered };
}

describe('stored responses on one gateway (embedded store)', () => {
  let harness: Harness;
  let alice: OpenAI;
  let bob: OpenAI;
  beforeAll(async () => {
    harness = await startHarness({ models: [{ id: MODEL, outputTokens: 8 }], adminKey: ADMIN_KEY, configure: twoDeployments });
    alice = clientOf(harness.gateway.url, (await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'alice' })).secret);
    bob = clientOf(harness.gateway.url, (await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'bob' })).secret);
  });
  afterAll(() => harness.close());

  it('continues a function call with previous_response_id: the backend gets the whole conversation', async () => {
    const { asked, call, answered } = await functionCallTurns(alice, alice);
    expect(answered.data.previous_response_id).toBe(asked.data.id);
    expect(answered.data.output_text.length).toBeGreaterThan(0);
    expect(chatBodies(harness.simulator).at(-1)!.messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: call.call_id, type: 'function', function: { name: 'get_weather', arguments: call.arguments } }] },
      { role: 'tool', tool_call_id: call.call_id, content: '{"temperature":21}' },
    ]);
    // The second turn is stored too, with the whole chain: a third turn continues from it in one read.
    const third = await alice.responses.create({ model: MODEL, previous_response_id: answered.data.id, input: 'And tomorrow?' });
    expect(chatBodies(harness.simulator).at(-1)!.messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      expect.objectContaining({ role: 'assistant', tool_calls: expect.any(Array) }),
      { role: 'tool', tool_call_id: call.call_id, content: '{"temperature":21}' },
      { role: 'assistant', content: answered.data.output_text },
      { role: 'user', content: 'And tomorrow?' },
    ]);
    expect((await alice.responses.retrieve(third.id)).output_text).toBe(third.output_text);
  });

  it('stores a streamed response (its response.completed) and continues it', async () => {
    const final = await alice.responses.stream({ model: MODEL, input: 'Name a colour.' }).finalResponse();
    const retrieved = await alice.responses.retrieve(final.id);
    expect(retrieved).toMatchObject({ id: final.id, status: 'completed', usage: final.usage });
    expect(retrieved.output_text).toBe(outputText(final));
    const next = await alice.responses.stream({ model: MODEL, previous_response_id: final.id, input: 'Another one.' }).finalResponse();
    expect(next.previous_response_id).toBe(final.id);
    expect(chatBodies(harness.simulator).at(-1)!.messages).toEqual([
      { role: 'user', content: 'Name a colour.' },
      { role: 'assistant', content: outputText(final) },
      { role: 'user', content: 'Another one.' },
    ]);
  });

  it('does not let another key read or continue a stored response, answering as for one that never existed', async () => {
    const own = await alice.responses.create({ model: MODEL, input: 'A secret of mine.' });
    const continued = await captureApiError(bob.responses.create({ model: MODEL, previous_response_id: own.id, input: 'Go on.' }));
    const never = await captureApiError(bob.responses.create({ model: MODEL, previous_response_id: 'resp_0000', input: 'Go on.' }));
    expect(continued).toBeInstanceOf(OpenAI.BadRequestError);
    expect(continued.error).toEqual({ message: `Previous response with id '${own.id}' not found.`, type: 'invalid_request_error', param: 'previous_response_id', code: 'previous_response_not_found' });
    expect({ ...(continued.error as object), message: null }).toEqual({ ...(never.error as object), message: null });
    expect(await captureApiError(bob.responses.retrieve(own.id))).toBeInstanceOf(OpenAI.NotFoundError);
    expect((await captureApiError(bob.responses.delete(own.id))).status).toBe(404);
    expect((await alice.responses.retrieve(own.id)).id).toBe(own.id);
  });

  it('keeps nothing with store: false', async () => {
    const unstored = await alice.responses.create({ model: MODEL, input: 'Forget this.', store: false });
    expect(unstored).toMatchObject({ store: false });
    expect((await captureApiError(alice.responses.retrieve(unstored.id))).status).toBe(404);
    expect((await captureApiError(alice.responses.create({ model: MODEL, previous_response_id: unstored.id, input: 'More.' }))).code).toBe('previous_response_not_found');
  });

  it('pins a continuation to the deployment that served the previous response, which round-robin would not', async () => {
    const first = await alice.responses.create({ model: MODEL, input: 'Start.' }).withResponse();
    const home = first.response.headers.get('x-dosrouter-deployment');
    expect(home).toMatch(/^(sim|spare)\/sim-model$/);
    const served = [];
    for (let turn = 0; turn < 4; turn += 1) {
      const next = await alice.responses.create({ model: MODEL, previous_response_id: first.data.id, input: `Turn ${turn}.` }).withResponse();
      served.push(next.response.headers.get('x-dosrouter-deployment'));
    }
    expect(served).toEqual([home, home, home, home]);
    const fresh = [];
    for (let turn = 0; turn < 4; turn += 1) fresh.push((await alice.responses.create({ model: MODEL, input: 'New.' }).withResponse()).response.headers.get('x-dosrouter-deployment'));
    expect(new Set(fresh).size).toBe(2);
  });

  it('shows the pin in /v1/router/explain for a Responses request', async () => {
    const first = await alice.responses.create({ model: MODEL, input: 'Start.' }).withResponse();
    const home = first.response.headers.get('x-dosrouter-deployment');
    const explained = await fetch(`${harness.gateway.url}/v1/router/explain?protocol=responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, previous_response_id: first.data.id, input: 'Next.' }),
    });
    expect(explained.status).toBe(200);
    const explanation = (await explained.json()) as Record<string, unknown>;
    expect(explanation).toMatchObject({ protocol: 'responses', pin: { deployment: home, applied: true }, attempts: [home, expect.any(String)] });
    const foreign = await fetch(`${harness.gateway.url}/v1/router/explain?protocol=responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bob.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, previous_response_id: first.data.id, input: 'Next.' }),
    });
    expect(foreign.status).toBe(400);
    expect(await foreign.json()).toMatchObject({ error: { code: 'previous_response_not_found' } });
  });
});

describe('stored responses passed through to an api: responses deployment', () => {
  let harness: Harness;
  let client: OpenAI;
  const responsesBodies = () =>
    harness.simulator
      .recentRequests()
      .filter((request) => request.path === '/v1/responses')
      .map((request) => request.body as Record<string, unknown>);
  beforeAll(async () => {
    harness = await startHarness({
      models: [{ id: MODEL, outputTokens: 8 }],
      adminKey: ADMIN_KEY,
      configure: (config) => {
        (config.backends as Record<string, unknown>[])[0]!.api = 'responses';
      },
    });
    client = clientOf(harness.gateway.url, (await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'native' })).secret);
  });
  afterAll(() => harness.close());

  it('keeps the backend’s Response and continues it: the backend gets the whole conversation, never the id', async () => {
    const { asked, call, answered } = await functionCallTurns(client, client);
    expect((await client.responses.retrieve(asked.data.id)).output).toEqual(asked.data.output);
    const sent = responsesBodies().at(-1)!;
    expect(sent).not.toHaveProperty('previous_response_id');
    expect(sent.input).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      expect.objectContaining({ type: 'function_call', call_id: call.call_id, name: 'get_weather', arguments: call.arguments }),
      { type: 'function_call_output', call_id: call.call_id, output: '{"temperature":21}' },
    ]);
    expect((await client.responses.retrieve(answered.data.id)).output_text).toBe(answered.data.output_text);
  });

  it('keeps a streamed Response from its response.completed event', async () => {
    const final = await client.responses.stream({ model: MODEL, input: 'Name a colour.' }).finalResponse();
    const retrieved = await client.responses.retrieve(final.id);
    expect(retrieved).toMatchObject({ id: final.id, status: 'completed', usage: final.usage });
    expect(retrieved.output_text).toBe(outputText(final));
    await client.responses.stream({ model: MODEL, previous_response_id: final.id, input: 'Another.' }).finalResponse();
    expect(responsesBodies().at(-1)!.input).toEqual([{ role: 'user', content: 'Name a colour.' }, expect.objectContaining({ type: 'message', role: 'assistant' }), { role: 'user', content: 'Another.' }]);
  });
});

describe('stored responses answered by a kind: anthropic deployment', () => {
  let harness: Harness;
  let client: OpenAI;
  beforeAll(async () => {
    harness = await startHarness({
      models: [{ id: MODEL, outputTokens: 8 }],
      adminKey: ADMIN_KEY,
      configure: (config) => {
        const backend = (config.backends as Record<string, unknown>[])[0]!;
        Object.assign(backend, { kind: 'anthropic', baseUrl: new URL(backend.baseUrl as string).origin });
      },
    });
    client = clientOf(harness.gateway.url, (await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'claude' })).secret);
  });
  afterAll(() => harness.close());

  it('keeps the translated Response and continues a function call with it', async () => {
    const { asked, call, answered } = await functionCallTurns(client, client);
    expect((await client.responses.retrieve(asked.data.id)).output).toEqual(asked.data.output);
    const sent = harness.simulator.recentRequests().filter((request) => request.path === '/v1/messages').at(-1)!.body as { messages: unknown[] };
    expect(sent.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
      { role: 'assistant', content: [expect.objectContaining({ type: 'tool_use', id: call.call_id, name: 'get_weather' })] },
      { role: 'user', content: [expect.objectContaining({ type: 'tool_result', tool_use_id: call.call_id })] },
    ]);
    expect(answered.data.previous_response_id).toBe(asked.data.id);
  });
});

describe('with responses.store.enabled: false', () => {
  let harness: Harness;
  afterAll(() => harness.close());

  it('keeps nothing, and refuses previous_response_id saying why', async () => {
    harness = await startHarness({ models: [{ id: MODEL, outputTokens: 4 }], configure: (config) => (config.responses = { store: { enabled: false } }) });
    const client = harness.client();
    const answered = await client.responses.create({ model: MODEL, input: 'Hello.' });
    expect((await captureApiError(client.responses.retrieve(answered.id))).status).toBe(404);
    const refused = await captureApiError(client.responses.create({ model: MODEL, input: 'Again.', previous_response_id: answered.id }));
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(refused.error).toMatchObject({ code: 'previous_response_not_found', param: 'previous_response_id', message: expect.stringContaining('responses.store.enabled is false') });
    const malformed = await fetch(`${harness.gateway.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, input: 'x', previous_response_id: 5 }) });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { param: 'previous_response_id', code: 'invalid_type' } });
  });
});

describe('a stored response past responses.store.ttlSeconds', () => {
  let harness: Harness;
  afterAll(() => harness.close());

  it('can no longer be continued or read', async () => {
    harness = await startHarness({ models: [{ id: MODEL, outputTokens: 4 }], adminKey: ADMIN_KEY, configure: (config) => (config.responses = { store: { ttlSeconds: 1 } }) });
    const client = clientOf(harness.gateway.url, (await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'ttl' })).secret);
    const first = await client.responses.create({ model: MODEL, input: 'Soon gone.' });
    await eventually(() => client.responses.retrieve(first.id).then(() => false, () => true), 10_000, 'the stored response to expire');
    const expired = await captureApiError(client.responses.create({ model: MODEL, previous_response_id: first.id, input: 'Still there?' }));
    expect(expired).toBeInstanceOf(OpenAI.BadRequestError);
    expect(expired.code).toBe('previous_response_not_found');
  });
});

describe('stored responses across replicas (Redis store)', () => {
  let simulator: Simulator;
  let cluster: ClusterHarness;
  let secret: string;
  beforeAll(async () => {
    simulator = await startSimulator({ models: [{ id: MODEL, outputTokens: 8 }], apiKey: SIMULATOR_KEY });
    const backend = { baseUrl: simulator.baseUrl, apiKey: SIMULATOR_KEY, models: [{ name: MODEL, capabilities: ['streaming', 'tools'] }] };
    cluster = await startClusterHarness({
      replicas: 2,
      redisUrl: TEST_REDIS_URL,
      adminKey: ADMIN_KEY,
      document: { prober: { embedded: false }, routing: { strategy: 'round-robin' }, backends: [{ name: 'sim', ...backend }, { name: 'spare', ...backend }] },
    });
    secret = (await createClientKey(cluster.gateways[0]!.url, ADMIN_KEY, { name: 'carol' })).secret;
  });
  afterAll(async () => {
    await cluster.close();
    await simulator.close();
  });

  it('continues on replica 2 a function call started on replica 1, on the deployment that served it', async () => {
    const [one, two] = cluster.gateways;
    const { asked, call, answered } = await functionCallTurns(clientOf(one!.url, secret), clientOf(two!.url, secret));
    expect(asked.response.headers.get('x-dosrouter-replica')).toBe('replica-1');
    expect(answered.response.headers.get('x-dosrouter-replica')).toBe('replica-2');
    expect(answered.response.headers.get('x-dosrouter-deployment')).toBe(asked.response.headers.get('x-dosrouter-deployment'));
    expect(chatBodies(simulator).at(-1)!.messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: call.call_id, type: 'function', function: { name: 'get_weather', arguments: call.arguments } }] },
      { role: 'tool', tool_call_id: call.call_id, content: '{"temperature":21}' },
    ]);
    expect((await clientOf(one!.url, secret).responses.retrieve(answered.data.id)).output_text).toBe(answered.data.output_text);
  });

  it('does not let another key continue it on any replica', async () => {
    const other = (await createClientKey(cluster.gateways[0]!.url, ADMIN_KEY, { name: 'mallory' })).secret;
    const own = await clientOf(cluster.gateways[0]!.url, secret).responses.create({ model: MODEL, input: 'Mine.' });
    for (const gateway of cluster.gateways) {
      const refused = await captureApiError(clientOf(gateway.url, other).responses.create({ model: MODEL, previous_response_id: own.id, input: 'Yours now.' }));
      expect(refused.code).toBe('previous_response_not_found');
    }
  });
});
