import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../simulator.js';
import { postAndReadEvents, requestJson } from '../../test-support/read-event-stream.js';
import type { Simulator } from '../../types.js';

const KEY = 'AIza-simulator-key';
const HEADERS = { 'x-goog-api-key': KEY };
const question = { contents: [{ role: 'user', parts: [{ text: 'tell me a story' }] }] };
const WEATHER = { functionDeclarations: [{ name: 'get_weather', parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }] };

describe('the simulator speaking the Gemini API below /v1beta', () => {
  let simulator: Simulator;
  let base: string;

  beforeAll(async () => {
    simulator = await startSimulator({ models: [{ id: 'gemini-2.5-flash', outputTokens: 6 }, { id: 'gemini-3-pro', outputTokens: 6 }], apiKey: KEY });
    base = `${new URL(simulator.baseUrl).origin}/v1beta`;
  });
  afterEach(() => simulator.reset());
  afterAll(() => simulator.close());

  const generate = (body: unknown, model = 'gemini-2.5-flash', headers: Record<string, string> = HEADERS) => requestJson(`${base}/models/${model}:generateContent`, { body, headers });

  it('answers generateContent with a candidate, its finishReason and usageMetadata', async () => {
    const result = await generate(question);
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({
      candidates: [{ content: { role: 'model', parts: [{ text: expect.stringMatching(/\w+/) as unknown }] }, finishReason: 'STOP', index: 0 }],
      usageMetadata: { candidatesTokenCount: 6 },
      modelVersion: 'gemini-2.5-flash',
    });
    const answered = await generate({ ...question, generationConfig: { candidateCount: 2, maxOutputTokens: 3 } });
    expect((answered.body as { candidates: unknown[] }).candidates).toMatchObject([{ index: 0, finishReason: 'MAX_TOKENS' }, { index: 1, finishReason: 'MAX_TOKENS' }]);
  });

  it('checks the key in x-goog-api-key or ?key=, as Google does', async () => {
    expect((await generate(question, 'gemini-2.5-flash', {})).body).toMatchObject({ error: { code: 403, status: 'PERMISSION_DENIED' } });
    const wrong = await generate(question, 'gemini-2.5-flash', { 'x-goog-api-key': 'AIza-wrong' });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({ error: { status: 'INVALID_ARGUMENT', details: [{ reason: 'API_KEY_INVALID' }] } });
    expect((await requestJson(`${base}/models/gemini-2.5-flash:generateContent?key=${KEY}`, { body: question })).status).toBe(200);
  });

  it('streams with alt=sse: one event per token, the last with the finishReason and the whole usage', async () => {
    const result = await postAndReadEvents(`${base}/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, question, { headers: HEADERS });
    expect(result.ending).toBe('ended');
    const events = result.events.map((event) => JSON.parse(event) as { candidates: { finishReason?: string }[]; usageMetadata: Record<string, number> });
    expect(events).toHaveLength(7);
    expect(events.slice(0, -1).every((event) => event.candidates[0]!.finishReason === undefined)).toBe(true);
    expect(events.at(-1)).toMatchObject({ candidates: [{ finishReason: 'STOP' }], usageMetadata: { candidatesTokenCount: 6 } });
  });

  it('calls a function as its config says, and wants the response right after the call', async () => {
    const called = await generate({ ...question, tools: [WEATHER], toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } } });
    const call = (called.body as { candidates: { content: { parts: { functionCall: { name: string; args: { city: string } } }[] } }[] }).candidates[0]!.content.parts[0]!.functionCall;
    expect(call.name).toBe('get_weather');
    expect(typeof call.args.city).toBe('string');
    const turn = [question.contents[0], { role: 'model', parts: [{ functionCall: call }] }];
    const answered = await generate({ tools: [WEATHER], contents: [...turn, { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { content: 'Sunny' } } }] }] });
    expect(answered.body).toMatchObject({ candidates: [{ content: { parts: [{ text: expect.any(String) as unknown }] } }] });
    const misnamed = await generate({ tools: [WEATHER], contents: [...turn, { role: 'user', parts: [{ functionResponse: { name: 'other', response: {} } }] }] });
    expect(misnamed.body).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
    // Gemini 3 wants the thought signature of a replayed call.
    const unsigned = await generate({ tools: [WEATHER], contents: turn }, 'gemini-3-pro');
    expect(unsigned.body).toMatchObject({ error: { code: 400, message: expect.stringContaining('thought_signature') as unknown } });
  });

  it('reports the implicit cache as cachedContentTokenCount and thinking as thoughtsTokenCount', async () => {
    const long = { systemInstruction: { parts: [{ text: 'The house rules of this simulator. '.repeat(200) }] }, ...question };
    await generate(long);
    const repeat = await generate({ ...long, generationConfig: { thinkingConfig: { thinkingBudget: 4 } } });
    const usage = (repeat.body as { usageMetadata: Record<string, number> }).usageMetadata;
    expect(usage.cachedContentTokenCount).toBeGreaterThan(1_000);
    expect(usage.promptTokenCount).toBeGreaterThan(usage.cachedContentTokenCount!);
    expect(usage).toMatchObject({ thoughtsTokenCount: 4, candidatesTokenCount: 6, totalTokenCount: usage.promptTokenCount! + 10 });
  });

  it('answers faults in Gemini shape: a 429 with RetryInfo and no retry-after header, an overload as 503 UNAVAILABLE, an error event mid-stream', async () => {
    simulator.injectFaults({ kind: 'rate_limit', retryAfterSeconds: 7 });
    const limited = await generate(question);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBeNull();
    expect(limited.body).toMatchObject({ error: { code: 429, status: 'RESOURCE_EXHAUSTED', details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' }] } });
    simulator.injectFaults({ kind: 'overloaded' });
    expect(await generate(question)).toMatchObject({ status: 503, body: { error: { code: 503, status: 'UNAVAILABLE' } } });
    simulator.injectFaults({ kind: 'stream_error' });
    const broken = await postAndReadEvents(`${base}/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, question, { headers: HEADERS });
    expect(JSON.parse(broken.events.at(-1)!)).toEqual({ error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' } });
  });

  it('lists its models as models/{id}, and answers an unknown one with 404 NOT_FOUND', async () => {
    const listed = await fetch(`${base}/models`, { headers: HEADERS });
    expect(((await listed.json()) as { models: { name: string }[] }).models.map((model) => model.name)).toEqual(['models/gemini-2.5-flash', 'models/gemini-3-pro']);
    expect((await generate(question, 'gemini-0')).body).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
  });
});
