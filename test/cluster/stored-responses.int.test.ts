import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { weatherTool } from '../../packages/gateway/src/test-support/responses-fixtures.js';
import { startTestCluster, type TestCluster } from './support/test-cluster.js';

const clientAt = (url: string) => new OpenAI({ apiKey: 'client-key-not-forwarded', baseURL: `${url}/v1`, maxRetries: 0, timeout: 20_000 });

describe('a Responses conversation across replica processes (Redis, nginx)', () => {
  let test: TestCluster;
  beforeAll(async () => {
    test = await startTestCluster({
      models: [{ id: 'm', outputTokens: 6 }],
      replicas: 2,
      redis: 'shared',
      configure: (config) => {
        const [backend] = config.backends as Record<string, unknown>[];
        for (const model of backend!.models as Record<string, unknown>[]) model.capabilities = ['streaming', 'tools'];
      },
    });
  });
  afterAll(() => test?.close());

  it('starts on replica 1, continues its function call on replica 2, and goes on through nginx', async ({ skip }) => {
    if (test.cluster.mode !== 'cluster') skip('the replicas run embedded (DOSROUTER_TEST_CLUSTER_MODE=off)');
    const [one, two] = test.cluster.replicas.map((replica) => clientAt(replica.url!));
    const asked = await one!.responses.create({ model: 'm', input: 'Weather in Paris?', tools: [weatherTool], tool_choice: 'required' }).withResponse();
    expect(asked.response.headers.get('x-dosrouter-replica')).toBe('gateway-1');
    const call = asked.data.output.find((item) => item.type === 'function_call')!;
    const answered = await two!.responses
      .create({ model: 'm', tools: [weatherTool], previous_response_id: asked.data.id, input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"temperature":21}' }] })
      .withResponse();
    expect(answered.response.headers.get('x-dosrouter-replica')).toBe('gateway-2');
    expect(answered.data.previous_response_id).toBe(asked.data.id);
    expect(answered.data.output_text.length).toBeGreaterThan(0);
    const onward = await test.client().responses.create({ model: 'm', previous_response_id: answered.data.id, input: 'And tomorrow?' });
    expect(onward.previous_response_id).toBe(answered.data.id);
    expect((await one!.responses.retrieve(onward.id)).output_text).toBe(onward.output_text);
  });
});
