import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outputText, weatherTool } from './test-support/responses-fixtures.js';
import { captureApiError, startHarness, type Harness } from './test-support/harness.js';

/**
 * Issue #14's "done when": a Codex-style client (the official SDK's `client.responses`) works against every backend
 * kind. The same scenarios, each against a gateway whose one deployment is a simulator of that kind: Chat Completions
 * (`api: chat`, translated both ways), Responses (`api: responses`, passed through), Anthropic's Messages API and
 * Gemini's generateContent (the Chat translation carried on to the backend's own API).
 */

const MODEL = 'sim-model';
const OUTPUT_TOKENS = 12;
const PRICING = { inputPerMTok: 1, outputPerMTok: 2 };

type Kind = 'openai api: chat' | 'openai api: responses' | 'anthropic' | 'gemini';

/** What makes the harness's one backend `sim` a deployment of the kind (the simulator speaks all four). */
function asKind(backend: Record<string, unknown>, kind: Kind): void {
  const origin = new URL(backend.baseUrl as string).origin;
  if (kind === 'openai api: chat') backend.api = 'chat';
  else if (kind === 'openai api: responses') backend.api = 'responses';
  // Anthropic's SDKs address the API by its origin; Google's base URL is the origin and the API version.
  else if (kind === 'anthropic') Object.assign(backend, { kind: 'anthropic', baseUrl: origin });
  else Object.assign(backend, { kind: 'gemini', baseUrl: `${origin}/v1beta` });
}

/** The path a streamed request reaches the simulator on: each kind's own API. */
const STREAM_PATH: Record<Kind, RegExp> = {
  'openai api: chat': /^\/v1\/chat\/completions$/,
  'openai api: responses': /^\/v1\/responses$/,
  anthropic: /^\/v1\/messages$/,
  gemini: /^\/v1beta\/models\/[^/]+:streamGenerateContent$/,
};

/** The answer passes through as the backend sent it (the Response's id is the backend's), or is made by translation. */
const passedThrough = (kind: Kind) => kind === 'openai api: responses';

async function collect<T extends { type: string }>(stream: AsyncIterable<T>): Promise<T[]> {
  const events: T[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

const TEXT_EVENTS = [
  'response.created',
  'response.in_progress',
  'response.output_item.added',
  'response.content_part.added',
  'response.output_text.delta',
  'response.output_text.done',
  'response.content_part.done',
  'response.output_item.done',
  'response.completed',
];

describe.each<Kind>(['openai api: chat', 'openai api: responses', 'anthropic', 'gemini'])('client.responses against a %s deployment', (kind) => {
  let harness: Harness;
  let client: OpenAI;
  beforeAll(async () => {
    harness = await startHarness({
      models: [{ id: MODEL, outputTokens: OUTPUT_TOKENS }],
      configure: (config) => {
        const backend = (config.backends as Record<string, unknown>[])[0]!;
        asKind(backend, kind);
        for (const model of backend.models as Record<string, unknown>[]) Object.assign(model, { pricing: PRICING, capabilities: ['streaming', 'tools', 'json_schema'] });
        (config as { cache?: unknown }).cache = { enabled: true, models: [MODEL] };
      },
    });
    client = harness.client();
  });
  afterAll(() => harness.close());

  it('answers a text request as a Response, with usage and the cost header', async () => {
    const { data: response, response: http } = await client.responses.create({ model: MODEL, instructions: 'Be brief.', input: 'Say hello.' }).withResponse();
    expect(response).toMatchObject({ object: 'response', status: 'completed' });
    expect(response.id).toMatch(/^resp_/);
    expect(response.output[0]).toMatchObject({ type: 'message', role: 'assistant', content: [{ type: 'output_text' }] });
    expect(response.output_text.length).toBeGreaterThan(0);
    expect(response.usage!.input_tokens).toBeGreaterThan(0);
    expect(response.usage!.output_tokens).toBe(OUTPUT_TOKENS);
    const cost = Number(http.headers.get('x-dosrouter-cost-usd'));
    expect(cost).toBeCloseTo((response.usage!.input_tokens * PRICING.inputPerMTok + OUTPUT_TOKENS * PRICING.outputPerMTok) / 1e6, 12);
  });

  it('streams the events the SDK expects, in order, sequence numbers from 0', async () => {
    const { data: stream, response: http } = await client.responses.create({ model: MODEL, input: 'Stream a greeting.', stream: true }).withResponse();
    const events = await collect(stream);
    // Each type in its place; the deltas repeat.
    expect(events.map((event) => event.type).filter((type, index, types) => type !== types[index - 1])).toEqual(TEXT_EVENTS);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
    const deltas = events.flatMap((event) => (event.type === 'response.output_text.delta' ? [event.delta] : []));
    const done = events.find((event) => event.type === 'response.output_text.done') as OpenAI.Responses.ResponseTextDoneEvent;
    expect(deltas.join('')).toBe(done.text);
    expect(done.text.length).toBeGreaterThan(0);
    const completed = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
    expect(completed.response.output).toHaveLength(1);
    expect(harness.simulator.recentRequests().at(-1)!.path).toMatch(STREAM_PATH[kind]);
    expect(completed.response.usage!.input_tokens).toBeGreaterThan(0);
    expect(completed.response.usage!.output_tokens).toBe(OUTPUT_TOKENS);
    expect(Number(http.headers.get('x-dosrouter-cost-usd'))).toBeGreaterThan(0);
  });

  it('gives responses.stream() its final response', async () => {
    const stream = client.responses.stream({ model: MODEL, input: [{ role: 'user', content: [{ type: 'input_text', text: 'Stream again.' }] }] });
    const texts: string[] = [];
    stream.on('response.output_text.delta', (event) => texts.push(event.delta));
    const final = await stream.finalResponse();
    expect(final.status).toBe('completed');
    expect(outputText(final)).toBe(texts.join(''));
    expect(texts.length).toBeGreaterThan(0);
    expect(final.usage!.input_tokens).toBeGreaterThan(0);
    expect(final.usage!.output_tokens).toBe(OUTPUT_TOKENS);
  });

  it('calls a function, then answers from its output sent back with the whole conversation, as Codex does', async () => {
    const input: OpenAI.Responses.ResponseInputItem[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const first = await client.responses.create({ model: MODEL, input, tools: [weatherTool], tool_choice: 'required', store: false });
    const call = first.output.find((item): item is OpenAI.Responses.ResponseFunctionToolCall => item.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather' });
    expect(call!.call_id.length).toBeGreaterThan(0);
    expect(JSON.parse(call!.arguments)).toHaveProperty('city');
    // The first turn's output items go back as they came (ids and statuses included), then the function's output.
    input.push(...(first.output as OpenAI.Responses.ResponseInputItem[]), { type: 'function_call_output', call_id: call!.call_id, output: '{"temperature":21}' });
    const second = await client.responses.create({ model: MODEL, tools: [weatherTool], input, store: false });
    expect(second.status).toBe('completed');
    expect(second.output.some((item) => item.type === 'function_call')).toBe(false);
    expect(second.output_text.length).toBeGreaterThan(0);
    // The backend got the call and its output back, in its own API's shape.
    const sent = JSON.stringify(harness.simulator.recentRequests().at(-1)!.body);
    expect(sent).toContain('get_weather');
    expect(sent).toContain('temperature');
    // A third turn carries the assistant's answer back too, streamed this time.
    input.push(...(second.output as OpenAI.Responses.ResponseInputItem[]), { role: 'user', content: 'And tomorrow?' });
    const third = await client.responses.stream({ model: MODEL, tools: [weatherTool], tool_choice: 'none', input, store: false }).finalResponse();
    expect(third.status).toBe('completed');
    expect(outputText(third).length).toBeGreaterThan(0);
    expect(JSON.stringify(harness.simulator.recentRequests().at(-1)!.body)).toContain(second.output_text);
  });

  it('accepts the fields a Codex request carries', async () => {
    const final = await client.responses
      .stream({
        model: MODEL,
        instructions: 'You are a coding agent.',
        input: [
          { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'Work in /repo.' }] },
          { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'List the files.' }] },
          // An earlier turn's reasoning, as Codex sends it back: Chat, Messages and Gemini have no place for it.
          { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'opaque' },
          { type: 'message', id: 'msg_1', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Listing them.', annotations: [] }] },
          { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Go on.' }] },
        ],
        tools: [weatherTool],
        tool_choice: 'auto',
        parallel_tool_calls: false,
        reasoning: { effort: 'low', summary: 'auto' },
        store: false,
        include: ['reasoning.encrypted_content'],
        prompt_cache_key: 'session-1',
      })
      .finalResponse();
    expect(final.status).toBe('completed');
    expect(final.usage!.output_tokens).toBeGreaterThan(0);
  });

  it('streams a function call as function_call_arguments events', async () => {
    const stream = client.responses.stream({ model: MODEL, input: 'Weather in Oslo?', tools: [weatherTool], tool_choice: { type: 'function', name: 'get_weather' } });
    const deltas: string[] = [];
    stream.on('response.function_call_arguments.delta', (event) => deltas.push(event.delta));
    const done = new Promise<OpenAI.Responses.ResponseFunctionCallArgumentsDoneEvent>((resolve) => stream.on('response.function_call_arguments.done', resolve));
    const call = (await stream.finalResponse()).output.find((item) => item.type === 'function_call');
    if (call?.type !== 'function_call') throw new Error('no function call in the final response');
    expect(call.name).toBe('get_weather');
    expect(JSON.parse(call.arguments)).toHaveProperty('city');
    expect((await done).arguments).toBe(call.arguments);
    expect(deltas.join('')).toBe(call.arguments);
  });

  it('answers in JSON that follows text.format json_schema', async () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' }, confidence: { type: 'number' } }, required: ['answer', 'confidence'], additionalProperties: false };
    const request = client.responses.create({ model: MODEL, input: 'Answer in JSON.', text: { format: { type: 'json_schema', name: 'answer', schema, strict: true } } });
    if (kind === 'anthropic') {
      // Not translated to Messages (docs/protocols.md): refused before the backend is asked, as the SDK's class.
      const requests = harness.simulator.stats.requests;
      const error = await captureApiError(request);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error.error).toMatchObject({ code: 'unsupported_by_deployment', param: 'text.format' });
      expect(error.message).toContain('`text.format` of type json_schema');
      expect(harness.simulator.stats.requests).toBe(requests);
      return;
    }
    const response = await request;
    const parsed = JSON.parse(response.output_text) as Record<string, unknown>;
    expect(typeof parsed.answer).toBe('string');
    expect(typeof parsed.confidence).toBe('number');
  });

  it.each([false, true])('answers the second identical request from the response cache (stream: %s)', async (stream) => {
    const body = { model: MODEL, temperature: 0, input: `Cache me (stream: ${stream}).` };
    const ask = async () => {
      if (!stream) {
        const { data, response } = await client.responses.create(body).withResponse();
        return { id: data.id, text: data.output_text, cache: response.headers.get('x-dosrouter-cache') };
      }
      const { data, response } = await client.responses.create({ ...body, stream: true }).withResponse();
      const events = await collect(data);
      expect(events.map((event) => event.type).filter((type, index, types) => type !== types[index - 1])).toEqual(TEXT_EVENTS);
      expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
      const completed = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
      expect((events[0] as OpenAI.Responses.ResponseCreatedEvent).response.id).toBe(completed.response.id);
      return { id: completed.response.id, text: outputText(completed.response), cache: response.headers.get('x-dosrouter-cache') };
    };
    const live = await ask();
    const requests = harness.simulator.stats.requests;
    const replayed = await ask();
    expect(live.cache).toBe('miss');
    expect(replayed.cache).toBe('hit');
    expect(harness.simulator.stats.requests).toBe(requests);
    expect(replayed.text).toBe(live.text);
    expect(live.text.length).toBeGreaterThan(0);
    // A translated answer is made again on the way out, as a Response of its own; a passed-through one is replayed.
    if (passedThrough(kind)) expect(replayed.id).toBe(live.id);
    else expect(replayed.id).not.toBe(live.id);
  });

  it.each([false, true])('does not store an answer that calls a function (cache.toolCalls off, stream: %s)', async (stream) => {
    const body = { model: MODEL, temperature: 0, input: `Weather in Quito (stream: ${stream})?`, tools: [weatherTool], tool_choice: 'required' as const };
    const ask = async () => {
      if (!stream) {
        const { data, response } = await client.responses.create(body).withResponse();
        expect(data.output.some((item) => item.type === 'function_call')).toBe(true);
        return response.headers.get('x-dosrouter-cache');
      }
      const { data, response } = await client.responses.create({ ...body, stream: true }).withResponse();
      const events = await collect(data);
      expect(events.some((event) => event.type === 'response.function_call_arguments.done')).toBe(true);
      return response.headers.get('x-dosrouter-cache');
    };
    const before = harness.simulator.stats.requests;
    expect(await ask()).toBe('miss');
    expect(await ask()).toBe('miss');
    expect(harness.simulator.stats.requests).toBe(before + 2);
  });
});
