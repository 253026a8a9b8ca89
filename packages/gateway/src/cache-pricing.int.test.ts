import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordTestSecret } from '../../shared/src/test-support/log-archive.js';
import { accessLineOf, createClientKey, eventually, startHarness, type Harness } from './test-support/harness.js';

const ADMIN_KEY = `admin-${randomBytes(12).toString('hex')}`;
recordTestSecret(ADMIN_KEY);

/** $2 per million uncached prompt tokens, $0.50 cached, $8 completion. */
const PRICING = { inputPerMTok: 2, outputPerMTok: 8, cacheReadPerMTok: 0.5 };
const OUTPUT_TOKENS = 10;
// 4,800 characters: 1,200 tokens + 3 for the message; the user's question adds ceil(18 / 4) + 3.
const LONG_SYSTEM = 'You answer questions about gateways. '.repeat(130).slice(0, 4_800);
const MESSAGES = [
  { role: 'system' as const, content: LONG_SYSTEM },
  { role: 'user' as const, content: 'What is a gateway?' },
];
const PROMPT_TOKENS = 1_200 + 3 + 5 + 3;
/** The simulator's cache reports the repeated 1,211-token prompt in steps of 128: 9 × 128. */
const CACHED_TOKENS = 1_152;

/** Hand-computed: the uncached prompt at the input price, the cached part at the cache-read price, the completion. */
const UNCACHED_COST = (PROMPT_TOKENS * 2 + OUTPUT_TOKENS * 8) / 1e6;
const CACHED_COST = ((PROMPT_TOKENS - CACHED_TOKENS) * 2 + CACHED_TOKENS * 0.5 + OUTPUT_TOKENS * 8) / 1e6;

describe('prices that know about OpenAI prompt caching', () => {
  let harness: Harness;
  let client: OpenAI;
  let keyId: string;

  beforeAll(async () => {
    harness = await startHarness({
      models: [{ id: 'sim-cached', outputTokens: OUTPUT_TOKENS }],
      adminKey: ADMIN_KEY,
      configure: (document) => {
        const [backend] = document.backends as { models: Record<string, unknown>[] }[];
        backend!.models = [{ name: 'sim-cached', pricing: PRICING, capabilities: ['streaming'] }];
      },
    });
    const key = await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'cache pricing' });
    keyId = key.id;
    client = new OpenAI({ apiKey: key.secret, baseURL: `${harness.gateway.url}/v1`, maxRetries: 0, timeout: 20_000 });
  });

  afterAll(() => harness.close());

  it('prices the cached part of a repeated prompt at cacheReadPerMTok, and the header, the record and the spend agree', async () => {
    const first = await client.chat.completions.create({ model: 'sim-cached', messages: MESSAGES }).withResponse();
    expect(first.data.usage).toEqual({ prompt_tokens: PROMPT_TOKENS, completion_tokens: OUTPUT_TOKENS, total_tokens: PROMPT_TOKENS + OUTPUT_TOKENS });
    expect(Number(first.response.headers.get('x-dosrouter-cost-usd'))).toBeCloseTo(UNCACHED_COST, 12);

    const repeat = await client.chat.completions.create({ model: 'sim-cached', messages: MESSAGES }).withResponse();
    expect(repeat.data.usage?.prompt_tokens_details).toEqual({ cached_tokens: CACHED_TOKENS });
    expect(repeat.data.usage?.prompt_tokens).toBe(PROMPT_TOKENS);
    const header = repeat.response.headers.get('x-dosrouter-cost-usd');
    expect(Number(header)).toBeCloseTo(CACHED_COST, 12);

    const line = await accessLineOf(harness.logs, repeat.response);
    expect(line).toMatchObject({ promptTokens: PROMPT_TOKENS, cacheReadTokens: CACHED_TOKENS, completionTokens: OUTPUT_TOKENS });
    expect(line['costUsd']).toBe(Number(header));
  });

  it('prices a streamed repeat from its usage chunk: the recorded spend is the cached price, not 0', async () => {
    await client.chat.completions.create({ model: 'sim-cached', messages: MESSAGES });
    for (const includeUsage of [true, false]) {
      const { data: stream, response } = await client.chat.completions
        .create({ model: 'sim-cached', messages: MESSAGES, stream: true, ...(includeUsage ? { stream_options: { include_usage: true } } : {}) })
        .withResponse();
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const chunk of stream) usage = chunk.usage ?? usage;
      // Without include_usage the gateway asks for the usage chunk itself and keeps it from the client.
      expect(usage?.prompt_tokens_details?.cached_tokens).toBe(includeUsage ? CACHED_TOKENS : undefined);
      const line = await accessLineOf(harness.logs, response);
      expect(line).toMatchObject({ stream: true, cacheReadTokens: CACHED_TOKENS, promptTokens: PROMPT_TOKENS });
      expect(line['costUsd']).toBeCloseTo(CACHED_COST, 12);
    }
  });

  it("sums the key's usage at the cached prices", async () => {
    // So far on this key: the first answer uncached, then four cached ones (two plain, two streamed).
    type Totals = { requests: number; cost_usd: number; prompt_tokens: number; cache_read_tokens: number; cache_write_tokens: number };
    let totals: Totals | undefined;
    await eventually(async () => {
      const response = await fetch(`${harness.gateway.url}/admin/usage?key=${keyId}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      const answer = (await response.json()) as { totals: Totals; pending_records: number };
      totals = answer.totals;
      return answer.pending_records === 0 && totals.requests === 5;
    }, 10_000);
    expect(totals!.cost_usd).toBeCloseTo(UNCACHED_COST + 4 * CACHED_COST, 12);
    expect(totals).toMatchObject({ prompt_tokens: 5 * PROMPT_TOKENS, cache_read_tokens: 4 * CACHED_TOKENS, cache_write_tokens: 0 });
  });

  it("spends a key's budget at the cached prices: a budget two uncached answers would pass takes three with a cache", async () => {
    // Spent after the answers: U, U + C, U + 2C. The budget lies between U + C and U + 2C; 2U is above it.
    const budget = UNCACHED_COST + 1.5 * CACHED_COST;
    expect(2 * UNCACHED_COST).toBeGreaterThan(budget);
    const key = await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'cached budget', budget: { dailyUsd: Number(budget.toFixed(6)) } });
    const budgeted = new OpenAI({ apiKey: key.secret, baseURL: `${harness.gateway.url}/v1`, maxRetries: 0, timeout: 20_000 });
    // The tests before cached their prompt; this one, changed at its end, starts uncached.
    const fresh = [{ role: 'system' as const, content: `${LONG_SYSTEM.slice(0, -4)}new.` }, MESSAGES[1]!];
    for (let answer = 0; answer < 3; answer += 1) await budgeted.chat.completions.create({ model: 'sim-cached', messages: fresh });
    const refused = await budgeted.chat.completions.create({ model: 'sim-cached', messages: fresh }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 429, code: 'insufficient_quota' });
  });
});
