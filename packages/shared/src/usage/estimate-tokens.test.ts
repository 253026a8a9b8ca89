import { describe, expect, it } from 'vitest';
import {
  CHAT_MESSAGE_TOKENS,
  IMAGE_PART_TOKENS,
  MESSAGE_NAME_TOKENS,
  REPLY_PRIMING_TOKENS,
  countTextTokens,
  estimateCompletionTokens,
  estimatePromptTokens,
  estimateStreamCompletionTokens,
  loadTokenizer,
  StreamCompletionCounter,
} from './estimate-tokens.js';

/** `text` in pieces of three characters, as a stream delivers it; counted piece by piece it would come out higher. */
function pieces(text: string): string[] {
  return text.match(/.{1,3}/gsu) ?? [];
}

/** Events of several choices, interleaved one event at a time as a server streaming `n > 1` choices sends them. */
function interleave(...streams: readonly string[][]): string[] {
  const events: string[] = [];
  const longest = Math.max(...streams.map((stream) => stream.length));
  for (let index = 0; index < longest; index += 1) {
    for (const stream of streams) {
      const event = stream[index];
      if (event !== undefined) events.push(event);
    }
  }
  return events;
}

function chatChunk(index: number, delta: Record<string, unknown>): string {
  return JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', choices: [{ index, delta, finish_reason: null }] });
}

describe('countTextTokens', () => {
  it('counts o200k_base tokens', () => {
    loadTokenizer();
    loadTokenizer(); // idempotent
    // The reference value: "hello world" is o200k_base tokens [24912, 2375] in tiktoken and its ports.
    expect(countTextTokens('hello world')).toBe(2);
    expect(countTextTokens('Hello, world!')).toBe(4);
    expect(countTextTokens('The quick brown fox jumps over the lazy dog.')).toBe(10);
    expect(countTextTokens('こんにちは世界')).toBe(2);
    expect(countTextTokens('{"city":"Paris"}')).toBe(5);
    expect(countTextTokens('')).toBe(0);
  });

  it('counts a special-token string as plain text instead of throwing', () => {
    expect(countTextTokens('<|endoftext|>')).toBe(7);
    expect(countTextTokens('<|im_start|>user')).toBeGreaterThan(2);
  });
});

describe('estimatePromptTokens for chat/completions', () => {
  it("matches the OpenAI API's 124 prompt tokens for the cookbook's example messages on gpt-4o", () => {
    // From OpenAI's cookbook "How to count tokens with tiktoken", where the API itself reported 124 for gpt-4o.
    const messages = [
      {
        role: 'system',
        content: 'You are a helpful, pattern-following assistant that translates corporate jargon into plain English.',
      },
      { role: 'system', name: 'example_user', content: 'New synergies will help drive top-line growth.' },
      { role: 'system', name: 'example_assistant', content: 'Things working well together will increase revenue.' },
      {
        role: 'system',
        name: 'example_user',
        content: "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage.",
      },
      { role: 'system', name: 'example_assistant', content: "Let's talk later when we're less busy about how to do better." },
      { role: 'user', content: "This late pivot means we don't have time to boil the ocean for the client deliverable." },
    ];
    expect(estimatePromptTokens('chat/completions', { model: 'gpt-4o', messages })).toBe(124);
  });

  it('counts text parts, a fixed allowance per image and the message overhead', () => {
    const body = {
      messages: [
        { role: 'system', content: 'You are a helpful assistant.' }, // 1 + 6
        {
          role: 'user', // 1
          content: [
            { type: 'text', text: 'What is in this image?' }, // 6
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'high' } },
            { type: 'text', text: 'Describe it briefly.' }, // 4
            { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } }, // ignored
          ],
        },
      ],
    };
    expect(IMAGE_PART_TOKENS).toBe(85);
    expect(estimatePromptTokens('chat/completions', body)).toBe(
      REPLY_PRIMING_TOKENS + (CHAT_MESSAGE_TOKENS + 1 + 6) + (CHAT_MESSAGE_TOKENS + 1 + 6 + IMAGE_PART_TOKENS + 4),
    );
    expect(estimatePromptTokens('chat/completions', body)).toBe(112);
  });

  it("counts tool definitions, an assistant's tool calls, tool results and names", () => {
    const tools = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather in a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
    ];
    expect(countTextTokens(JSON.stringify(tools))).toBe(41);
    const body = {
      tools,
      messages: [
        { role: 'user', name: 'alice', content: 'hello world' }, // 1 + (1 + 1) + 2
        {
          role: 'assistant', // 1
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }], // 2 + 5
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temperature":21,"unit":"C"}' }, // 1 + 9
      ],
    };
    expect(estimatePromptTokens('chat/completions', body)).toBe(
      REPLY_PRIMING_TOKENS +
        41 +
        (CHAT_MESSAGE_TOKENS + 1 + MESSAGE_NAME_TOKENS + 1 + 2) +
        (CHAT_MESSAGE_TOKENS + 1 + 2 + 5) +
        (CHAT_MESSAGE_TOKENS + 1 + 9),
    );
  });

  it('counts the legacy function_call and functions', () => {
    const functions = [{ name: 'get_time', parameters: { type: 'object', properties: {} } }];
    const body = {
      functions,
      messages: [{ role: 'assistant', content: null, function_call: { name: 'get_time', arguments: '{"tz":"UTC"}' } }],
    };
    expect(estimatePromptTokens('chat/completions', body)).toBe(
      REPLY_PRIMING_TOKENS + countTextTokens(JSON.stringify(functions)) + CHAT_MESSAGE_TOKENS + 1 + 2 + 5,
    );
  });

  it('reads a malformed body defensively', () => {
    expect(estimatePromptTokens('chat/completions', {})).toBe(REPLY_PRIMING_TOKENS);
    expect(estimatePromptTokens('chat/completions', { messages: 'hello', tools: {} })).toBe(REPLY_PRIMING_TOKENS);
    expect(
      estimatePromptTokens('chat/completions', {
        messages: [null, 7, { role: 'user', content: 42 }, { role: 'user', content: [null, 'text', { type: 'text' }] }],
      }),
    ).toBe(REPLY_PRIMING_TOKENS + 2 * (CHAT_MESSAGE_TOKENS + 1));
  });
});

describe('estimatePromptTokens for completions and embeddings', () => {
  it('counts a completions prompt of each shape, and its suffix', () => {
    expect(estimatePromptTokens('completions', { prompt: 'Say this is a test' })).toBe(5);
    expect(estimatePromptTokens('completions', { prompt: ['Once upon a time', 'There was a fox'] })).toBe(8);
    expect(estimatePromptTokens('completions', { prompt: 'Say this is a test', suffix: 'suffix text' })).toBe(7);
    expect(estimatePromptTokens('completions', { prompt: [1, 2, 3] })).toBe(3);
    expect(estimatePromptTokens('completions', { prompt: [[1, 2, 3], [4, 5]] })).toBe(5);
    expect(estimatePromptTokens('completions', {})).toBe(0);
  });

  it('counts embeddings input: a string, strings, or token arrays by their length', () => {
    expect(estimatePromptTokens('embeddings', { input: 'The food was delicious' })).toBe(4);
    expect(estimatePromptTokens('embeddings', { input: ['The food was delicious', 'and the wine too'] })).toBe(8);
    expect(estimatePromptTokens('embeddings', { input: [24912, 2375] })).toBe(2);
    expect(estimatePromptTokens('embeddings', { input: [[24912, 2375], [24912]] })).toBe(3);
    expect(estimatePromptTokens('embeddings', { input: [[1, 'x', null], null, { text: 'hello' }] })).toBe(1);
    expect(estimatePromptTokens('embeddings', { input: null })).toBe(0);
  });
});

describe('estimateCompletionTokens', () => {
  it('counts chat message content, refusal and tool calls', () => {
    expect(estimateCompletionTokens({ choices: [{ index: 0, message: { role: 'assistant', content: 'It is 21 °C in Paris.' } }] })).toBe(9);
    expect(estimateCompletionTokens({ choices: [{ message: { content: null, refusal: 'I cannot help with that.' } }] })).toBe(6);
    expect(estimateCompletionTokens({ choices: [{ message: { content: [{ type: 'text', text: 'hello world' }] } }] })).toBe(2);
    const toolCalls = [
      { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{"tz":"UTC"}' } },
    ];
    expect(estimateCompletionTokens({ choices: [{ message: { content: null, tool_calls: toolCalls } }] })).toBe(2 + 5 + 2 + 5);
  });

  it('counts reasoning once when a provider sends it as both reasoning_content and reasoning', () => {
    const reasoning = 'Let me think about it.'; // 6
    expect(estimateCompletionTokens({ choices: [{ message: { content: 'Hello', reasoning_content: reasoning } }] })).toBe(7);
    expect(estimateCompletionTokens({ choices: [{ message: { content: 'Hello', reasoning } }] })).toBe(7);
    expect(estimateCompletionTokens({ choices: [{ message: { content: 'Hello', reasoning_content: reasoning, reasoning } }] })).toBe(7);
  });

  it('counts completions text over every choice', () => {
    const answer = { object: 'text_completion', choices: [{ index: 0, text: 'Once upon a time' }, { index: 1, text: 'There was a fox' }] };
    expect(estimateCompletionTokens(answer)).toBe(8);
  });

  it('counts 0 for anything that is not an answer', () => {
    expect(estimateCompletionTokens(null)).toBe(0);
    expect(estimateCompletionTokens('hello world')).toBe(0);
    expect(estimateCompletionTokens({ choices: 'hello world' })).toBe(0);
    expect(estimateCompletionTokens({ choices: [null, { message: 'hello world' }] })).toBe(0);
  });
});

describe('estimateStreamCompletionTokens', () => {
  const content = 'Hello there! How can I help you today?'; // 10
  const reasoning = 'The user greets me; I should greet back.'; // 11
  const weatherArguments = '{"city":"Paris","unit":"celsius"}'; // 10
  const timeArguments = '{"timezone":"Europe/Paris"}'; // 7

  const answer = {
    object: 'chat.completion',
    choices: [
      { index: 0, message: { role: 'assistant', content, reasoning_content: reasoning, reasoning }, finish_reason: 'stop' },
      {
        index: 1,
        message: {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: weatherArguments } },
            { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: timeArguments } },
          ],
        },
        finish_reason: 'tool_calls',
      },
    ],
  };

  const firstChoice = [
    chatChunk(0, { role: 'assistant', content: '' }),
    ...pieces(reasoning).map((piece) => chatChunk(0, { reasoning_content: piece, reasoning: piece })),
    ...pieces(content).map((piece) => chatChunk(0, { content: piece })),
  ];
  const secondChoice = [
    chatChunk(1, { role: 'assistant', content: null }),
    chatChunk(1, { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_', arguments: '' } }] }),
    chatChunk(1, { tool_calls: [{ index: 0, function: { name: 'weather' } }] }),
    ...pieces(weatherArguments).map((piece) => chatChunk(1, { tool_calls: [{ index: 0, function: { arguments: piece } }] })),
    chatChunk(1, { tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '' } }] }),
    ...pieces(timeArguments).map((piece) => chatChunk(1, { tool_calls: [{ index: 1, function: { arguments: piece } }] })),
  ];
  const closing = [
    JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
    JSON.stringify({ choices: [], usage: null }),
    '[DONE]',
  ];

  it('gives the same count as the same answer unstreamed', () => {
    const events = [...interleave(firstChoice, secondChoice), ...closing];
    expect(estimateCompletionTokens(answer)).toBe(10 + 11 + (2 + 10) + (2 + 7));
    expect(estimateStreamCompletionTokens(events)).toBe(estimateCompletionTokens(answer));
  });

  it('skips events that do not parse or are not chunks', () => {
    const malformed = [
      'not json',
      '',
      '{"choices":[{"delta":{"content":"Hel"}}',
      'null',
      '42',
      '"hello world"',
      '{"choices":"hello world"}',
      '{"choices":[null,{"index":0,"delta":"hello world"}]}',
    ];
    const events = [...malformed.slice(0, 4), ...interleave(firstChoice, secondChoice), ...malformed.slice(4), ...closing];
    expect(estimateStreamCompletionTokens(events)).toBe(estimateCompletionTokens(answer));
    expect(estimateStreamCompletionTokens(malformed)).toBe(0);
    expect(estimateStreamCompletionTokens([])).toBe(0);
  });

  it('counts a streamed refusal and a legacy function_call', () => {
    const refusal = 'I cannot help with that.';
    expect(estimateStreamCompletionTokens(pieces(refusal).map((piece) => chatChunk(0, { refusal: piece })))).toBe(
      estimateCompletionTokens({ choices: [{ message: { content: null, refusal } }] }),
    );
    const functionCall = { name: 'get_time', arguments: '{"tz":"UTC"}' };
    const events = [
      chatChunk(0, { function_call: { name: 'get_time', arguments: '' } }),
      ...pieces(functionCall.arguments).map((piece) => chatChunk(0, { function_call: { arguments: piece } })),
    ];
    expect(estimateStreamCompletionTokens(events)).toBe(estimateCompletionTokens({ choices: [{ message: { function_call: functionCall } }] }));
    expect(estimateStreamCompletionTokens(events)).toBe(2 + 5);
  });

  it('counts the same when its text is made flat between events (compact)', () => {
    const events = [...interleave(firstChoice, secondChoice), ...closing];
    const counter = new StreamCompletionCounter();
    events.forEach((event, index) => {
      counter.add(event);
      if (index % 3 === 0) counter.compact();
    });
    expect(counter.tokens()).toBe(estimateCompletionTokens(answer));
  });

  it('puts completions text back together per choice', () => {
    const text = 'Once upon a time, a quick brown fox lived in a forest.'; // 14
    const events = pieces(text).map((piece) => JSON.stringify({ object: 'text_completion', choices: [{ index: 0, text: piece }] }));
    expect(estimateStreamCompletionTokens(events)).toBe(14);
    expect(estimateStreamCompletionTokens(events)).toBe(estimateCompletionTokens({ choices: [{ index: 0, text }] }));
  });
});

describe('bounded work on any text', () => {
  it('tokenizes at most a budget per estimate and scales the rest at the rate measured', () => {
    const sentence = 'The quick brown fox jumps over the lazy dog. ';
    // 45,000 characters: within the budget, every one tokenized.
    const thousand = countTextTokens(sentence.repeat(1_000));
    // 450,000 characters, far past it.
    const estimated = estimatePromptTokens('completions', { prompt: sentence.repeat(10_000) });
    expect(estimated).toBeGreaterThan(thousand * 10 * 0.98);
    expect(estimated).toBeLessThan(thousand * 10 * 1.02);
  });

  it('counts a long run without spaces in pieces, close to one token per few characters', () => {
    // Counted in one piece this takes seconds (the BPE is quadratic on a run); in pieces it is linear.
    const tokens = countTextTokens('a'.repeat(100_000));
    expect(tokens).toBeGreaterThan(100_000 / 16);
    expect(tokens).toBeLessThan(100_000 / 2);
  });
});
