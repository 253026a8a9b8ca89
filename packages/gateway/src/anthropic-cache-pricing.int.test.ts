import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { accessLineOf, startHarness, type Harness } from './test-support/harness.js';

/** Anthropic's Sonnet prices: $3 input, $15 output, $0.30 cache reads, $3.75 and $6 cache writes for 5 minutes and 1 hour. */
const PRICING = { inputPerMTok: 3, outputPerMTok: 15, cacheReadPerMTok: 0.3, cacheWritePerMTok: { '5m': 3.75, '1h': 6 } };
const OUTPUT_TOKENS = 10;
// 4,800 characters: 1,200 tokens for the simulator; the question is 3 + ceil(18 / 4) = 8 uncached tokens.
const SYSTEM = 'You answer questions about gateways. '.repeat(130).slice(0, 4_800);

const request = (ttl: '5m' | '1h') => ({
  model: 'claude-model',
  max_tokens: 100,
  system: [{ type: 'text' as const, text: SYSTEM, cache_control: { type: 'ephemeral' as const, ttl } }],
  messages: [{ role: 'user' as const, content: 'What is a gateway?' }],
});

/** Hand-computed, per million: the 8 uncached tokens, the 1,200 cached ones at the write or read price, 10 out. */
const WRITE_1H_COST = (8 * 3 + 1_200 * 6 + OUTPUT_TOKENS * 15) / 1e6;
const WRITE_5M_COST = (8 * 3 + 1_200 * 3.75 + OUTPUT_TOKENS * 15) / 1e6;
const READ_COST = (8 * 3 + 1_200 * 0.3 + OUTPUT_TOKENS * 15) / 1e6;

describe('prices of Anthropic prompt caching, through /v1/messages to a native Anthropic deployment', () => {
  let harness: Harness;
  let client: Anthropic;

  beforeAll(async () => {
    harness = await startHarness({
      models: [{ id: 'claude-model', outputTokens: OUTPUT_TOKENS }],
      configure: (document) => {
        const [backend] = document.backends as Record<string, unknown>[];
        // The simulator speaking Messages, addressed by its origin as Anthropic's API is.
        Object.assign(backend!, { kind: 'anthropic', baseUrl: new URL(backend!.baseUrl as string).origin });
        (backend!.models as Record<string, unknown>[])[0]!.pricing = PRICING;
      },
    });
    client = new Anthropic({ apiKey: 'client-key-not-forwarded', baseURL: harness.gateway.url, maxRetries: 0 });
  });

  beforeEach(() => {
    // A fresh prompt cache: the first request of each test writes.
    harness.simulator.reset();
  });

  afterAll(() => harness.close());

  it('prices a 1-hour cache write, then a cache read, in the cost header and the usage record alike', async () => {
    const written = await client.messages.create(request('1h')).withResponse();
    expect(written.data.usage).toMatchObject({ input_tokens: 8, cache_creation_input_tokens: 1_200, cache_creation: { ephemeral_1h_input_tokens: 1_200 } });
    expect(Number(written.response.headers.get('x-dosrouter-cost-usd'))).toBeCloseTo(WRITE_1H_COST, 12);
    expect(await accessLineOf(harness.logs, written.response)).toMatchObject({ promptTokens: 1_208, cacheWriteTokens: 1_200, costUsd: WRITE_1H_COST });

    const read = await client.messages.create(request('1h')).withResponse();
    expect(read.data.usage).toMatchObject({ input_tokens: 8, cache_read_input_tokens: 1_200, cache_creation_input_tokens: 0 });
    expect(Number(read.response.headers.get('x-dosrouter-cost-usd'))).toBeCloseTo(READ_COST, 12);
    expect(await accessLineOf(harness.logs, read.response)).toMatchObject({ promptTokens: 1_208, cacheReadTokens: 1_200, costUsd: READ_COST });
  });

  it('prices streamed answers from message_start and message_delta: a 5-minute write, then a read, never 0', async () => {
    for (const expected of [WRITE_5M_COST, READ_COST]) {
      const stream = client.messages.stream(request('5m'));
      const { response } = await stream.withResponse();
      const final = await stream.finalMessage();
      expect(final.usage.output_tokens).toBe(OUTPUT_TOKENS);
      const line = await accessLineOf(harness.logs, response);
      expect(line).toMatchObject({ stream: true, promptTokens: 1_208 });
      expect(line['costUsd']).toBeCloseTo(expected, 12);
    }
  });
});
