import type OpenAI from 'openai';

/** A function tool for the Responses API tests: the simulator answers it with a call whose arguments follow the schema. */
export const weatherTool: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
};

/** The text of a Response's messages (the SDK's `output_text`, which `finalResponse()` leaves unset). */
export function outputText(response: OpenAI.Responses.Response): string {
  return response.output.flatMap((item) => (item.type === 'message' ? item.content : [])).map((part) => (part.type === 'output_text' ? part.text : '')).join('');
}
