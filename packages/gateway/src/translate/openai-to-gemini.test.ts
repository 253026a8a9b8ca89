import { GatewayError } from '@dosrouter/shared';
import { describe, expect, it } from 'vitest';
import { SKIP_THOUGHT_SIGNATURE, toGeminiRequest } from './openai-to-gemini.js';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const OPTIONS = { model: 'gemini-2.5-flash' };
const WEATHER = { type: 'function', function: { name: 'get_weather', description: 'The weather now', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };

function refusal(body: Record<string, unknown>, model = OPTIONS.model): GatewayError {
  try {
    toGeminiRequest(body, { model });
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a GatewayError');
}

describe('toGeminiRequest', () => {
  it('puts system and developer messages in systemInstruction, user and assistant turns in contents, same roles merged', () => {
    const request = toGeminiRequest(
      {
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hello' },
          { role: 'user', content: [{ type: 'text', text: 'there' }, { type: 'text', text: '' }] },
          { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
          { role: 'assistant', content: 'Bonjour', refusal: null },
          { role: 'user', content: 'Again' },
        ],
      },
      OPTIONS,
    );
    expect(request).toEqual({
      systemInstruction: { parts: [{ text: 'Be brief.' }, { text: 'Answer in French.' }] },
      contents: [
        { role: 'user', parts: [{ text: 'Hello' }, { text: 'there' }] },
        { role: 'model', parts: [{ text: 'Bonjour' }] },
        { role: 'user', parts: [{ text: 'Again' }] },
      ],
    });
  });

  it('maps sampling, length, stop, n, seed, penalties, JSON schema output and reasoning_effort to generationConfig', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] };
    const request = toGeminiRequest(
      {
        messages: [{ role: 'user', content: 'Hi' }],
        temperature: 1.5,
        top_p: 0.9,
        max_tokens: 50,
        max_completion_tokens: 80,
        stop: 'END',
        n: 2,
        seed: 42,
        presence_penalty: 0.5,
        frequency_penalty: 0,
        response_format: { type: 'json_schema', json_schema: { name: 'a', schema, strict: true } },
        reasoning_effort: 'medium',
      },
      OPTIONS,
    );
    expect(request.generationConfig).toEqual({
      stopSequences: ['END'],
      responseMimeType: 'application/json',
      responseJsonSchema: schema,
      candidateCount: 2,
      maxOutputTokens: 80,
      temperature: 1.5,
      topP: 0.9,
      seed: 42,
      presencePenalty: 0.5,
      thinkingConfig: { thinkingBudget: 8_192 },
    });
    expect(toGeminiRequest({ messages: [{ role: 'user', content: 'Hi' }], response_format: { type: 'json_object' }, reasoning_effort: 'none' }, OPTIONS).generationConfig).toEqual({
      responseMimeType: 'application/json',
      thinkingConfig: { thinkingBudget: 0 },
    });
    expect(toGeminiRequest({ messages: [{ role: 'user', content: 'Hi' }], response_format: { type: 'text' } }, OPTIONS)).not.toHaveProperty('generationConfig');
  });

  it('sends images as inlineData (data URLs) or fileData with the media type of the extension (http URLs), audio and files as inlineData', () => {
    const request = toGeminiRequest(
      {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
              { type: 'image_url', image_url: { url: 'https://example.com/photos/cat.JPEG?size=large' } },
              { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
              { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=' } },
            ],
          },
        ],
      },
      OPTIONS,
    );
    expect(request.contents[0]!.parts).toEqual([
      { inlineData: { mimeType: 'image/png', data: PNG } },
      { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/photos/cat.JPEG?size=large' } },
      { inlineData: { mimeType: 'audio/wav', data: 'UklGRg==' } },
      { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } },
    ]);
  });

  it('refuses with a 400 naming the field an image URL of unknown media type, a file by id, and a URL of another scheme', () => {
    const image = (url: string) => ({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }] });
    expect(refusal(image('https://example.com/render?id=3'))).toMatchObject({ status: 400, code: 'unsupported_by_deployment', param: 'messages[0].content[0].image_url.url' });
    expect(refusal(image('ftp://example.com/a.png'))).toMatchObject({ status: 400, code: 'invalid_value', param: 'messages[0].content[0].image_url.url' });
    expect(refusal(image('data:image/png,notbase64'))).toMatchObject({ status: 400, param: 'messages[0].content[0].image_url.url' });
    expect(refusal({ messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-1' } }] }] })).toMatchObject({ param: 'messages[0].content[0].file' });
  });

  it('declares tools with their JSON schema and maps tool_choice to functionCallingConfig', () => {
    const messages = [{ role: 'user', content: 'Weather?' }];
    const config = (tool_choice: unknown) => toGeminiRequest({ messages, tools: [WEATHER], tool_choice }, OPTIONS).toolConfig;
    expect(toGeminiRequest({ messages, tools: [WEATHER] }, OPTIONS)).toMatchObject({
      tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'The weather now', parametersJsonSchema: WEATHER.function.parameters }] }],
    });
    expect(config(undefined)).toBeUndefined();
    expect(config('auto')).toEqual({ functionCallingConfig: { mode: 'AUTO' } });
    expect(config('none')).toEqual({ functionCallingConfig: { mode: 'NONE' } });
    expect(config('required')).toEqual({ functionCallingConfig: { mode: 'ANY' } });
    expect(config({ type: 'function', function: { name: 'get_weather' } })).toEqual({ functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } });
    expect(refusal({ messages, tools: [{ type: 'custom', custom: { name: 'x' } }] })).toMatchObject({ param: 'tools[0]' });
    expect(refusal({ messages, tools: [WEATHER], tool_choice: 'sometimes' })).toMatchObject({ param: 'tool_choice' });
  });

  it('replays tool calls as functionCall parts and tool results as functionResponses named after the call', () => {
    const body = {
      messages: [
        { role: 'user', content: 'Weather and time in Paris?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_2', content: '14:00' },
        { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: 'Sunny' }] },
      ],
    };
    expect(toGeminiRequest(body, OPTIONS).contents.slice(1)).toEqual([
      { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }, { functionCall: { name: 'get_time', args: {} } }] },
      {
        role: 'user',
        parts: [{ functionResponse: { name: 'get_time', response: { content: '14:00' } } }, { functionResponse: { name: 'get_weather', response: { content: 'Sunny' } } }],
      },
    ]);
    // Gemini 3 and later want a thought signature on the first call of a turn: the documented sentinel.
    expect(toGeminiRequest(body, { model: 'gemini-3-pro-preview' }).contents[1]!.parts.map((part) => part.thoughtSignature)).toEqual([SKIP_THOUGHT_SIGNATURE, undefined]);
    const unknown = { messages: [...body.messages.slice(0, 2), { role: 'tool', tool_call_id: 'call_9', content: 'x' }] };
    expect(refusal(unknown)).toMatchObject({ status: 400, param: 'messages[2].tool_call_id' });
    const badArguments = { messages: [{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '[1]' } }] }] };
    expect(refusal(badArguments)).toMatchObject({ param: 'messages[0].tool_calls[0].function.arguments' });
  });

  it('refuses what Gemini cannot say with a 400 naming it', () => {
    const messages = [{ role: 'user', content: 'Hi' }];
    expect(refusal({ messages, logprobs: true })).toMatchObject({ status: 400, code: 'unsupported_by_deployment', param: 'logprobs' });
    expect(refusal({ messages, modalities: ['text', 'audio'] })).toMatchObject({ param: 'modalities' });
    expect(refusal({ messages, logit_bias: { '50256': -100 } })).toMatchObject({ param: 'logit_bias' });
    expect(refusal({ messages: [{ role: 'function', content: 'x', name: 'f' }] })).toMatchObject({ param: 'messages[0].role' });
    expect(refusal({ messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'https://a.b/c.png' } }] }] })).toMatchObject({ param: 'messages[0].content[0]' });
    expect(refusal({ messages, response_format: { type: 'json_schema', json_schema: { name: 'a' } } })).toMatchObject({ param: 'response_format.json_schema.schema' });
    expect(refusal({ messages, max_tokens: 0 })).toMatchObject({ param: 'max_tokens' });
  });
});
