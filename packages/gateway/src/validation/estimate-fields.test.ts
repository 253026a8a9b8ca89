import { describe, expect, it } from 'vitest';
import { GatewayError } from '@dosrouter/shared';
import { validateChatRequest } from './chat-request.js';
import { validateCompletionRequest } from './completion-request.js';
import { validateEmbeddingRequest } from './embedding-request.js';

const routes = {
  chat: { validate: validateChatRequest, body: { model: 'm', messages: [{ role: 'user', content: 'hi' }] } },
  completions: { validate: validateCompletionRequest, body: { model: 'm', prompt: 'hi' } },
  embeddings: { validate: validateEmbeddingRequest, body: { model: 'm', input: 'hi' } },
};

const badValues: [string, unknown][] = [
  ['a fraction', 1.5],
  ['a negative number', -1000],
  ['zero', 0],
  ['a string', '100'],
  ['a boolean', true],
  ['an array', [100]],
];

function refusal(call: () => unknown): GatewayError {
  try {
    call();
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected the request to be refused');
}

describe('the fields a token estimate reads', () => {
  for (const [route, { validate, body }] of Object.entries(routes)) {
    describe(`on ${route}`, () => {
      for (const field of ['n', 'max_tokens', 'max_completion_tokens']) {
        for (const [name, value] of badValues) {
          it(`refuses ${name} as ${field} with a 400 naming it`, () => {
            const error = refusal(() => validate({ ...body, [field]: value }));
            expect(error).toMatchObject({ status: 400, param: field, code: 'invalid_value', type: 'invalid_request_error' });
          });
        }
      }

      it('refuses more than 128 choices and more than 10,000,000 tokens', () => {
        expect(refusal(() => validate({ ...body, n: 129 }))).toMatchObject({ status: 400, param: 'n' });
        expect(refusal(() => validate({ ...body, max_tokens: 10_000_001 }))).toMatchObject({ status: 400, param: 'max_tokens' });
        expect(refusal(() => validate({ ...body, max_completion_tokens: 2 ** 53 }))).toMatchObject({ status: 400, param: 'max_completion_tokens' });
      });

      it('accepts whole numbers within the bounds, and the fields left out or null', () => {
        expect(validate({ ...body, n: 128, max_tokens: 10_000_000, max_completion_tokens: 1 }).model).toBe('m');
        expect(validate({ ...body, n: null, max_tokens: null }).model).toBe('m');
        expect(validate(body).model).toBe('m');
      });
    });
  }
});
