import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../simulator.js';
import type { Simulator } from '../../types.js';

const API_KEY = 'sk-sim';
const weatherTool: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: true,
};

function textOf(response: OpenAI.Responses.Response): string {
  return response.output.flatMap((item) => (item.type === 'message' ? item.content : [])).map((part) => (part.type === 'output_text' ? part.text : '')).join('');
}

describe('POST /v1/responses, with the official OpenAI SDK', () => {
  let simulator: Simulator;
  let client: OpenAI;

  beforeAll(async () => {
    simulator = await startSimulator({ apiKey: API_KEY, models: [{ id: 'sim-gpt', outputTokens: 9 }] });
    client = new OpenAI({ apiKey: API_KEY, baseURL: simulator.baseUrl, maxRetries: 0 });
  });

  afterEach(() => {
    simulator.reset();
  });

  afterAll(async () => {
    await simulator.close();
  });

  it('answers as the chat endpoint does for the same conversation, whole and streamed', async () => {
    const response = await client.responses.create({ model: 'sim-gpt', instructions: 'Be brief.', input: 'What is a gateway?' });
    const chat = await client.chat.completions.create({ model: 'sim-gpt', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'What is a gateway?' }] });
    expect(response.output_text).toBe(chat.choices[0]!.message.content);
    expect(response.usage).toEqual({ input_tokens: chat.usage!.prompt_tokens, input_tokens_details: { cached_tokens: 0 }, output_tokens: 9, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: chat.usage!.prompt_tokens + 9 });
    const stream = client.responses.stream({ model: 'sim-gpt', instructions: 'Be brief.', input: 'What is a gateway?' });
    const sequence: number[] = [];
    stream.on('event', (event) => sequence.push(event.sequence_number));
    const final = await stream.finalResponse();
    expect(textOf(final)).toBe(response.output_text);
    expect(final.usage).toEqual(response.usage);
    expect(sequence).toEqual(sequence.map((_, index) => index));
    expect(simulator.usageByRequestId()['']).toMatchObject({ answers: 3 });
  });

  it('calls a function, streamed as argument deltas, and answers its output in text', async () => {
    const stream = client.responses.stream({ model: 'sim-gpt', input: 'Weather in Paris?', tools: [weatherTool] });
    const deltas: string[] = [];
    stream.on('response.function_call_arguments.delta', (event) => deltas.push(event.delta));
    const final = await stream.finalResponse();
    const call = final.output[0]!;
    if (call.type !== 'function_call') throw new Error('expected a function call');
    expect(deltas.join('')).toBe(call.arguments);
    expect(JSON.parse(call.arguments)).toEqual({ city: expect.any(String) });
    const answer = await client.responses.create({
      model: 'sim-gpt',
      tools: [weatherTool],
      input: [{ role: 'user', content: 'Weather in Paris?' }, { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments }, { type: 'function_call_output', call_id: call.call_id, output: 'sunny' }],
    });
    expect(answer.output[0]?.type).toBe('message');
  });

  it('refuses a built-in tool and a missing input, naming the field', async () => {
    const tool = await client.responses.create({ model: 'sim-gpt', input: 'x', tools: [{ type: 'web_search' }] }).catch((error: unknown) => error);
    expect(tool).toBeInstanceOf(OpenAI.BadRequestError);
    expect((tool as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('tools[0].type');
    const input = await client.responses.create({ model: 'sim-gpt' } as OpenAI.Responses.ResponseCreateParamsNonStreaming).catch((error: unknown) => error);
    expect((input as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('input');
  });

  it('breaks a stream with an error event numbered in sequence (stream_error)', async () => {
    simulator.injectFaults({ kind: 'stream_error' });
    const stream = await client.responses.create({ model: 'sim-gpt', input: 'Fail halfway.', stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events.at(-1)).toMatchObject({ type: 'error', code: 'server_error' });
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
  });
});
