import { describe, expect, it } from 'vitest';
import { readRequestFacts } from './request-facts.js';

const chat = (body: Record<string, unknown>) => readRequestFacts('chat/completions', { messages: [{ role: 'user', content: 'hi' }], ...body }, false);
const required = (body: Record<string, unknown>) => chat(body).profile.requiredCapabilities;

const TOOL = { type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } };
const IMAGE = { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } };

describe('readRequestFacts for chat completions', () => {
  it('needs no capability for a plain conversation', () => {
    expect(required({})).toEqual([]);
  });

  it('needs tools when tools or legacy functions are sent, whatever tool_choice says', () => {
    expect(required({ tools: [TOOL] })).toEqual(['tools']);
    expect(required({ tools: [TOOL], tool_choice: 'none' })).toEqual(['tools']);
    expect(required({ functions: [TOOL.function] })).toEqual(['tools']);
  });

  it('does not need tools for an empty tools list', () => {
    expect(required({ tools: [], functions: [] })).toEqual([]);
  });

  it('needs vision when any message has an image part', () => {
    for (const type of ['image_url', 'input_image', 'image']) {
      const messages = [
        { role: 'system', content: 'Describe pictures.' },
        { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { ...IMAGE, type }] },
      ];
      expect(required({ messages })).toEqual(['vision']);
    }
  });

  it('does not need vision for text parts only', () => {
    expect(required({ messages: [{ role: 'user', content: [{ type: 'text', text: 'no picture' }] }] })).toEqual([]);
  });

  it('needs documents when a message has a file part (a PDF)', () => {
    for (const type of ['file', 'input_file']) {
      const messages = [{ role: 'user', content: [{ type, file: { filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBERi0=' } }, { type: 'text', text: 'Sum it up.' }] }];
      expect(required({ messages })).toEqual(['documents']);
    }
  });

  it('needs json_schema for a json_schema response format, not for json_object', () => {
    expect(required({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {} } } })).toEqual(['json_schema']);
    expect(required({ response_format: { type: 'json_object' } })).toEqual([]);
  });

  it('collects every capability a request needs', () => {
    const body = { tools: [TOOL], messages: [{ role: 'user', content: [IMAGE] }], response_format: { type: 'json_schema' } };
    expect(required(body)).toEqual(['tools', 'vision', 'json_schema']);
  });

  it('reads the last user message, not the system prompt or a later assistant turn', () => {
    const messages = [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'an answer' },
      { role: 'user', content: [{ type: 'text', text: 'second' }, { type: 'text', text: 'question' }] },
      { role: 'assistant', content: 'thinking…' },
    ];
    expect(chat({ messages }).lastUserText).toBe('second\nquestion');
  });

  it('estimates the whole prompt: every message plus its overhead', () => {
    // "hi" is 1 token, "abcdefgh" 2; each message adds 4.
    expect(chat({}).profile.estimatedPromptTokens).toBe(5);
    const messages = [{ role: 'system', content: 'abcdefgh' }, { role: 'user', content: 'hi' }];
    expect(chat({ messages }).profile.estimatedPromptTokens).toBe(11);
  });

  it('takes max_completion_tokens over max_tokens', () => {
    expect(chat({ max_tokens: 100 }).profile.maxOutputTokens).toBe(100);
    expect(chat({ max_tokens: 100, max_completion_tokens: 300 }).profile.maxOutputTokens).toBe(300);
  });

  it('ignores an output cap that is not a positive integer', () => {
    for (const max_tokens of [0, -5, 1.5, '100', null]) expect(chat({ max_tokens }).profile).not.toHaveProperty('maxOutputTokens');
  });

  it('keeps only the string values of metadata', () => {
    expect(chat({ metadata: { team: 'search', priority: 1, nested: { a: 'b' }, flag: true } }).metadata).toEqual({ team: 'search' });
    expect(chat({ metadata: ['not', 'an', 'object'] }).metadata).toEqual({});
    expect(chat({}).metadata).toEqual({});
  });

  it('passes the stream flag through', () => {
    expect(readRequestFacts('chat/completions', {}, true).profile.stream).toBe(true);
    expect(chat({}).profile.stream).toBe(false);
  });

  it('reads a body without messages as an empty prompt', () => {
    expect(readRequestFacts('chat/completions', {}, false)).toEqual({
      profile: { stream: false, estimatedPromptTokens: 0, requiredCapabilities: [] },
      lastUserText: '',
      metadata: {},
    });
  });
});

describe('readRequestFacts for completions and embeddings', () => {
  it('reads a completion prompt as the user text, with one message overhead', () => {
    const facts = readRequestFacts('completions', { prompt: 'abcdefgh', max_tokens: 16 }, true);
    expect(facts.lastUserText).toBe('abcdefgh');
    expect(facts.profile).toEqual({ stream: true, estimatedPromptTokens: 2 + 4, maxOutputTokens: 16, requiredCapabilities: [] });
  });

  it('joins a list of prompts by newlines', () => {
    expect(readRequestFacts('completions', { prompt: ['one', 'two'] }, false).lastUserText).toBe('one\ntwo');
  });

  it('reads the embedding input, not the prompt', () => {
    const facts = readRequestFacts('embeddings', { input: 'abcdefghijkl', prompt: 'ignored' }, false);
    expect(facts.lastUserText).toBe('abcdefghijkl');
    expect(facts.profile.estimatedPromptTokens).toBe(3 + 4);
  });

  it('needs no capability for completions, even with chat-only fields', () => {
    expect(readRequestFacts('completions', { prompt: 'x', tools: [TOOL], response_format: { type: 'json_schema' } }, false).profile.requiredCapabilities).toEqual([]);
  });

  it('reads a missing or malformed input as empty text', () => {
    expect(readRequestFacts('embeddings', {}, false).lastUserText).toBe('');
    expect(readRequestFacts('embeddings', { input: 42 }, false).profile.estimatedPromptTokens).toBe(0);
  });

  it('counts token ids one token each, flat or in lists', () => {
    const ids = (length: number) => Array.from({ length }, (_, index) => index);
    const profile = (input: unknown) => readRequestFacts('embeddings', { input }, false).profile;
    expect(profile(ids(1000)).estimatedPromptTokens).toBe(1000);
    expect(profile([ids(2), ids(2)]).estimatedPromptTokens).toBe(4);
    expect(readRequestFacts('completions', { prompt: ids(300) }, false).profile.estimatedPromptTokens).toBe(300);
  });

  it('checks an embeddings batch against the context window input by input, and prices its sum', () => {
    const inputs = Array.from({ length: 10 }, () => 'word '.repeat(800));
    const { profile } = readRequestFacts('embeddings', { input: inputs }, false);
    expect(profile.contextTokens).toBe(1004);
    expect(profile.estimatedPromptTokens).toBe(10_040);
    expect(readRequestFacts('chat/completions', { messages: [{ role: 'user', content: 'hi' }] }, false).profile).not.toHaveProperty('contextTokens');
  });
});
