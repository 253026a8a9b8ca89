import { describe, expect, it } from 'vitest';
import { ChatStreamToResponses, completionAsEvents } from './chat-stream-to-responses.js';
import type { ResponseNames } from './responses-to-chat.js';

const NAMES: ResponseNames = { id: 'resp_abc', model: 'client-model', createdAt: 1_700_000_000, request: { model: 'client-model', input: 'Hi', metadata: { a: 'b' } } };

/** A Chat Completions stream: reasoning, text (one chunk written as OpenAI does, one not), a tool call, usage, [DONE]. */
const CHAT_STREAM = [
  { id: 'chatcmpl-1', model: 'gpt-x', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
  { id: 'chatcmpl-1', model: 'gpt-x', choices: [{ index: 0, delta: { reasoning_content: 'Thinking.' }, finish_reason: null }] },
  { id: 'chatcmpl-1', model: 'gpt-x', choices: [{ index: 0, delta: { content: 'Hello "there"' }, finish_reason: null }] },
  { choices: [{ delta: { content: ', friend.' }, index: 0 }] },
  { id: 'chatcmpl-1', model: 'gpt-x', choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '' } }] }, finish_reason: null }] },
  { id: 'chatcmpl-1', model: 'gpt-x', choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"q":1}' } }] }, finish_reason: null }] },
  { id: 'chatcmpl-1', model: 'gpt-x', choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
  { id: 'chatcmpl-1', model: 'gpt-x', choices: [], usage: { prompt_tokens: 20, completion_tokens: 9, total_tokens: 29, prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 3 } } },
]
  .map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`)
  .join('')
  .concat('data: [DONE]\n\n');

type Event = { type: string; sequence_number: number } & Record<string, unknown>;

function run(text: string, size: number): Event[] {
  const translator = new ChatStreamToResponses(NAMES);
  let out = '';
  for (let start = 0; start < text.length; start += size) out += translator.push(text.slice(start, start + size));
  return parse(out);
}

function parse(out: string): Event[] {
  return out
    .split('\n\n')
    .filter((block) => block !== '')
    .map((block) => {
      const [name, data] = block.split('\n');
      const event = JSON.parse(data!.slice(6)) as Event;
      expect(name).toBe(`event: ${event.type}`);
      return event;
    });
}

describe('ChatStreamToResponses', () => {
  it('emits the Responses events in order, numbered from 0, whatever the pieces', () => {
    for (const size of [1, 13, CHAT_STREAM.length]) {
      const events = run(CHAT_STREAM, size);
      expect(events.map((event) => event.type)).toEqual([
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
        'response.reasoning_text.delta',
        'response.reasoning_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.output_item.added',
        'response.content_part.added',
        'response.output_text.delta',
        'response.output_text.delta',
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.output_item.added',
        'response.function_call_arguments.delta',
        'response.function_call_arguments.done',
        'response.output_item.done',
        'response.completed',
      ]);
      expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
      expect(events[10]).toEqual({ type: 'response.output_text.delta', item_id: 'msg_abc_1', output_index: 1, content_index: 0, delta: 'Hello "there"', logprobs: [], sequence_number: 10 });
      expect(events[12]).toMatchObject({ text: 'Hello "there", friend.' });
      expect(events[17]).toMatchObject({ item_id: 'fc_abc_2', output_index: 2, name: 'lookup', arguments: '{"q":1}' });
      const completed = events.at(-1)!.response as Record<string, unknown>;
      expect(completed).toMatchObject({ id: 'resp_abc', status: 'completed', model: 'gpt-x', metadata: { a: 'b' }, created_at: 1_700_000_000 });
      expect(completed.usage).toEqual({ input_tokens: 20, input_tokens_details: { cached_tokens: 4 }, output_tokens: 9, output_tokens_details: { reasoning_tokens: 3 }, total_tokens: 29 });
      expect(completed.output).toEqual([
        { id: 'rs_abc_0', type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'Thinking.' }], status: 'completed' },
        { id: 'msg_abc_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'Hello "there", friend.' }] },
        { id: 'fc_abc_2', type: 'function_call', status: 'completed', arguments: '{"q":1}', call_id: 'call_1', name: 'lookup' },
      ]);
    }
  });

  it('ends a stream cut by the length limit as response.incomplete', () => {
    const text = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'cut' }, finish_reason: 'length' }] })}\n\ndata: [DONE]\n\n`;
    const last = run(text, text.length).at(-1)!;
    expect(last.type).toBe('response.incomplete');
    expect(last.response).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
    // The backend reported no usage: unknown, not zero.
    expect((last.response as Record<string, unknown>).usage).toBeNull();
  });

  it('turns the gateway error event into response.failed and an error event, and reads nothing after them', () => {
    const text = `${CHAT_STREAM.split('\n\n').slice(0, 3).join('\n\n')}\n\ndata: {"error":{"message":"The backend stopped.","type":"server_error","param":null,"code":"upstream_stream_interrupted"}}\n\ndata: [DONE]\n\n`;
    const events = run(text, 7);
    expect(events.slice(-2)).toEqual([
      expect.objectContaining({ type: 'response.failed', response: expect.objectContaining({ status: 'failed', error: { code: 'upstream_stream_interrupted', message: 'The backend stopped.' } }) }),
      { type: 'error', code: 'upstream_stream_interrupted', message: 'The backend stopped.', param: null, sequence_number: events.length - 1 },
    ]);
  });

  it('sends a whole completion as the events of a stream', () => {
    const completion = { id: 'chatcmpl-2', model: 'gpt-x', choices: [{ index: 0, message: { role: 'assistant', content: 'Whole.', tool_calls: [{ id: 'call_2', type: 'function', function: { name: 'f', arguments: '{}' } }] }, finish_reason: 'tool_calls' }], usage: { prompt_tokens: 3, completion_tokens: 2 } };
    const events = parse(completionAsEvents(completion, NAMES));
    expect(events.map((event) => event.type)).toContain('response.function_call_arguments.done');
    expect(events.at(-1)!.response).toMatchObject({ output: [{ type: 'message' }, { type: 'function_call', call_id: 'call_2', arguments: '{}' }], usage: { input_tokens: 3, output_tokens: 2 } });
  });
});
