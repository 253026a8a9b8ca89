import { describe, expect, it } from 'vitest';
import { callsTools } from './cached-answer.js';

describe('callsTools', () => {
  it.each([
    ['a chat completion with tool calls', '{"choices":[{"message":{"tool_calls":[{"id":"call_1"}]},"finish_reason":"tool_calls"}]}'],
    ['a chat stream chunk', 'data: {"choices":[{"delta":{},"finish_reason":"tool_calls"}]}'],
    ['a Messages tool_use block', '{"content":[{"type":"tool_use","id":"toolu_1"}],"stop_reason":"tool_use"}'],
    ['a Response with a function_call item', '{"object":"response","output":[{"type":"function_call","call_id":"call_1","name":"f","arguments":"{}"}]}'],
    ['a Response stream’s output_item.added', 'event: response.output_item.added\ndata: {"type":"response.output_item.added","item":{"type": "function_call","name":"f"}}'],
  ])('sees %s', (_name, body) => {
    expect(callsTools(body)).toBe(true);
  });

  it.each([
    ['a text answer', '{"choices":[{"message":{"content":"hi"},"finish_reason":"stop"}]}'],
    ['a Response of text that mentions the names', '{"output":[{"type":"message","content":[{"type":"output_text","text":"\\"type\\":\\"function_call\\" and \\"tool_calls\\": ["}]}]}'],
    ['a Response whose input echoed a function_call_output', '{"output":[{"type":"message"}],"note":{"type":"function_call_output"}}'],
  ])('does not see %s', (_name, body) => {
    expect(callsTools(body)).toBe(false);
  });
});
