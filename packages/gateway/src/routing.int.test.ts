import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '../../shared/src/test-support/redis.js';
import { captureApiError, eventually } from './test-support/harness.js';
import { startRoutingFixture, tally, type ChatBody, type RoutingFixture } from './test-support/routing-fixture.js';

const ask = (model: string, content = 'Hello there'): ChatBody => ({ model, messages: [{ role: 'user', content }] });

const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};
const imageMessage = {
  role: 'user' as const,
  content: [
    { type: 'text' as const, text: 'What is in this picture?' },
    { type: 'image_url' as const, image_url: { url: 'https://example.com/cat.png' } },
  ],
};
const jsonSchemaFormat = {
  type: 'json_schema' as const,
  json_schema: { name: 'city', schema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } },
};
const PROOF = 'Prove that there are infinitely many prime numbers, step by step.';

/** Prices per million tokens, as configured below. */
const PRICES = { small: [0.1, 0.4], mid: [1, 4], large: [5, 20], thinker: [10, 40], agent: [2, 8] } as const;
const price = (model: keyof typeof PRICES) => ({ inputPerMTok: PRICES[model][0], outputPerMTok: PRICES[model][1] });
const usd = (model: keyof typeof PRICES, promptTokens: number, completionTokens: number): number =>
  (promptTokens * PRICES[model][0] + completionTokens * PRICES[model][1]) / 1_000_000;

const share = (counts: Record<string, number>, key: string): number =>
  (counts[key] ?? 0) / Object.values(counts).reduce((sum, count) => sum + count, 0);

/** Breakers that open after two failures out of two, for the fallback tests. */
const touchyBreaker = { volumeThreshold: 2, errorThresholdPercentage: 50, cooldownMs: 60_000 };

describe('routing decisions through the gateway, with three simulated backends', () => {
  let fixture: RoutingFixture;
  beforeAll(async () => {
    fixture = await startRoutingFixture({
      backends: [
        {
          name: 'a',
          models: [
            { name: 'wrr', weight: 3 },
            { name: 'rr', weight: 3 },
            { name: 'busy' },
            { name: 'cheap', pricing: { inputPerMTok: 3, outputPerMTok: 15 }, capabilities: ['streaming', 'tools'] },
            { name: 'cap', capabilities: ['streaming'], contextWindow: 8_000, maxOutputTokens: 1_000 },
            { name: 'chatty' },
            { name: 'coder', pricing: { inputPerMTok: 2, outputPerMTok: 8 } },
            { name: 'g1' },
            { name: 'primary', capabilities: ['streaming'], breaker: touchyBreaker },
            { name: 'small', pricing: price('small') },
            { name: 'mid', pricing: price('mid') },
            { name: 'sticky' },
          ],
        },
        {
          name: 'b',
          // 500 ms: the least-busy split stays lopsided also when a busy machine slows the fast deployment (with
          // 100 ms, 78% went to the fast one with both cores held by another process).
          simulated: { busy: { headersDelayMs: 500 } },
          models: [
            { name: 'wrr', weight: 1 },
            { name: 'rr', weight: 1 },
            { name: 'busy' },
            { name: 'cheap', pricing: { inputPerMTok: 1, outputPerMTok: 4 }, capabilities: ['streaming', 'tools'] },
            { name: 'cap', capabilities: ['streaming', 'tools', 'json_schema'], contextWindow: 8_000, maxOutputTokens: 4_096 },
            { name: 'coder', pricing: { inputPerMTok: 1, outputPerMTok: 4 } },
            { name: 'g2' },
            { name: 'primary', capabilities: ['streaming'], breaker: touchyBreaker },
            { name: 'large', pricing: price('large') },
            { name: 'thinker', pricing: price('thinker'), capabilities: ['streaming', 'reasoning'] },
            { name: 'sticky' },
          ],
        },
        {
          name: 'c',
          models: [
            { name: 'cheap', pricing: { inputPerMTok: 0.2, outputPerMTok: 0.8 }, capabilities: ['streaming'] },
            { name: 'cap', capabilities: ['streaming', 'vision'], contextWindow: 200_000, maxOutputTokens: 16_000 },
            { name: 'g2' },
            { name: 'backup', capabilities: ['streaming', 'vision'] },
            { name: 'agent', pricing: price('agent'), capabilities: ['streaming', 'tools'] },
            { name: 'longctx', contextWindow: 200_000 },
            { name: 'sticky' },
          ],
        },
      ],
      document: {
        aliases: { smart: 'coder' },
        routing: {
          models: {
            rr: { strategy: 'round-robin' },
            busy: { strategy: 'least-busy' },
            cheap: { strategy: 'cost' },
            primary: { fallbacks: ['backup'] },
          },
          groups: { pool: ['g1', 'g2'] },
          rules: [
            { name: 'code', match: { model: 'chatty', lastUserMessage: '\\b(typescript|python|rust)\\b' }, route: { model: 'coder' } },
            { name: 'batch', match: { model: 'chatty', headers: { 'x-team': '^batch$' } }, route: { group: 'pool' } },
            { name: 'long', match: { model: 'chatty', promptTokens: { min: 1_500, max: 4_000 } }, route: { model: 'longctx' } },
            { name: 'acme', match: { model: 'chatty', metadata: { tenant: 'acme' } }, route: { model: 'coder', strategy: 'cost' } },
          ],
          profiles: {
            auto: {
              tiers: { SIMPLE: ['small', 'mid'], MEDIUM: ['mid'], COMPLEX: ['large'], REASONING: ['thinker', 'large'] },
              agenticTiers: { SIMPLE: ['agent'], MEDIUM: ['agent'], COMPLEX: ['agent'], REASONING: ['agent'] },
            },
            eco: { tiers: { SIMPLE: ['small'], MEDIUM: ['small'], COMPLEX: ['mid'], REASONING: ['mid'] } },
            premium: { tiers: { SIMPLE: ['large'], MEDIUM: ['large'], COMPLEX: ['thinker'], REASONING: ['thinker'] } },
          },
          savingsBaseline: 'large',
        },
      },
    });
  });
  afterAll(() => fixture?.close());

  describe('the weighted strategy', () => {
    it('sends 75% ± 3% of 4,000 requests to the deployment of weight 3 out of 3:1', async () => {
      const { counts } = await tally(fixture, 4_000, () => ({ body: ask('wrr') }), { concurrency: 32 });
      expect(Object.keys(counts).sort()).toEqual(['a/wrr', 'b/wrr']);
      expect(share(counts, 'a/wrr')).toBeGreaterThan(0.72);
      expect(share(counts, 'a/wrr')).toBeLessThan(0.78);
      // 4,000 requests take 30 s and more when the machine is busy; the count is what makes the bound tight.
    }, 120_000);
  });

  describe('the round-robin strategy (per-model config)', () => {
    it('gives weights 3:1 exactly three of every four consecutive requests, a, a, b, a', async () => {
      const { sequence } = await tally(fixture, 400, () => ({ body: ask('rr') }), { concurrency: 1 });
      expect(sequence.slice(0, 4)).toEqual(['a/rr', 'a/rr', 'b/rr', 'a/rr']);
      for (let start = 0; start + 4 <= sequence.length; start += 1) {
        const window = sequence.slice(start, start + 4);
        expect(window.filter((deployment) => deployment === 'a/rr'), `requests ${start}–${start + 3}`).toHaveLength(3);
      }
    });

    it('keeps exactly 75% under concurrency: 3,000 and 1,000 of 4,000', async () => {
      const { counts } = await tally(fixture, 4_000, () => ({ body: ask('rr') }), { concurrency: 32 });
      expect(counts).toEqual({ 'a/rr': 3_000, 'b/rr': 1_000 });
    }, 120_000);
  });

  describe('the least-busy strategy', () => {
    it('sends most concurrent traffic to the fast deployment while the slow one holds requests', async () => {
      const { counts } = await tally(fixture, 1_000, () => ({ body: ask('busy') }), { concurrency: 32 });
      // A weighted split of the same load is 50% (next test).
      expect(share(counts, 'a/busy')).toBeGreaterThan(0.8);
      expect(counts['b/busy']).toBeGreaterThan(0);
    });

    it('splits the same load evenly when the header asks for weighted instead', async () => {
      const { counts } = await tally(fixture, 400, () => ({ body: ask('busy'), headers: { 'x-dosrouter-strategy': 'weighted' } }), { concurrency: 32 });
      expect(share(counts, 'a/busy')).toBeGreaterThan(0.4);
      expect(share(counts, 'a/busy')).toBeLessThan(0.6);
    });
  });

  describe('the cost strategy', () => {
    it('picks the cheapest deployment every time', async () => {
      const { counts } = await tally(fixture, 200, () => ({ body: ask('cheap') }));
      expect(counts).toEqual({ 'c/cheap': 200 });
    });

    it('skips the cheapest deployment when it lacks a capability the request needs', async () => {
      const { counts } = await tally(fixture, 200, () => ({ body: { ...ask('cheap'), tools: [weatherTool] } }));
      expect(counts).toEqual({ 'b/cheap': 200 });
    });

    it('reports the cost of the answer from the backend’s usage and the deployment’s prices', async () => {
      const { completion, headers } = await fixture.chat(ask('cheap'));
      const { prompt_tokens: promptTokens, completion_tokens: completionTokens } = completion.usage!;
      expect(Number(headers.get('x-dosrouter-cost-usd'))).toBeCloseTo((promptTokens * 0.2 + completionTokens * 0.8) / 1_000_000, 12);
    });
  });

  describe('capability and size filters', () => {
    const deploymentsFor = async (body: ChatBody): Promise<Record<string, number>> => (await tally(fixture, 40, () => ({ body }))).counts;

    it('sends a request with tools only to the deployment that has tools', async () => {
      expect(await deploymentsFor({ ...ask('cap'), tools: [weatherTool] })).toEqual({ 'b/cap': 40 });
    });

    it('sends a request with an image part only to the deployment with vision', async () => {
      expect(await deploymentsFor({ model: 'cap', messages: [imageMessage] })).toEqual({ 'c/cap': 40 });
    });

    it('sends a json_schema response format only to the deployment with json_schema', async () => {
      expect(await deploymentsFor({ ...ask('cap'), response_format: jsonSchemaFormat })).toEqual({ 'b/cap': 40 });
    });

    it('sends a prompt too large for two context windows to the third', async () => {
      const large = 'The quarterly report covers revenue, costs and headcount. '.repeat(700); // ≈ 10,000 tokens
      expect(await deploymentsFor(ask('cap', `${large} Summarise it.`))).toEqual({ 'c/cap': 40 });
    });

    it('sends a max_tokens above two deployments’ maximum output to the third', async () => {
      expect(await deploymentsFor({ ...ask('cap'), max_tokens: 5_000 })).toEqual({ 'c/cap': 40 });
    });

    it('spreads a plain request over every deployment', async () => {
      expect(Object.keys(await deploymentsFor(ask('cap'))).sort()).toEqual(['a/cap', 'b/cap', 'c/cap']);
    });

    it('answers 400 no_capable_deployment, naming what each lacks, when no deployment has every capability', async () => {
      const before = fixture.backendRequests();
      const error = await captureApiError(fixture.chat({ model: 'cap', messages: [imageMessage], tools: [weatherTool] }));
      expect(error.status).toBe(400);
      expect(error.code).toBe('no_capable_deployment');
      expect(error.message).toContain('a/cap lacks tools, vision');
      expect(error.message).toContain('b/cap lacks vision');
      expect(error.message).toContain('c/cap lacks tools');
      expect(fixture.backendRequests()).toBe(before);
    });

    it('answers 400 context_length_exceeded when the request fits no context window', async () => {
      const before = fixture.backendRequests();
      const error = await captureApiError(fixture.chat({ ...ask('cap'), max_tokens: 250_000 }));
      expect(error.status).toBe(400);
      expect(error.code).toBe('context_length_exceeded');
      expect(error.message).toMatch(/c\/cap .*exceed its context window of 200000/);
      expect(fixture.backendRequests()).toBe(before);
    });
  });

  describe('choosing the strategy', () => {
    it('tells in x-dosrouter-strategy the per-model strategy, or the default', async () => {
      const strategies = await Promise.all(
        ['wrr', 'rr', 'busy', 'cheap'].map(async (model) => (await fixture.chat(ask(model))).headers.get('x-dosrouter-strategy')),
      );
      expect(strategies).toEqual(['weighted', 'round-robin', 'least-busy', 'cost']);
      expect((await fixture.explain(ask('cheap'))).strategy).toEqual({ name: 'cost', source: 'model' });
      expect((await fixture.explain(ask('wrr'))).strategy).toEqual({ name: 'weighted', source: 'default' });
    });

    it('switches strategy per request with x-dosrouter-strategy: round-robin spreads the cost model exactly', async () => {
      const roundRobin = { 'x-dosrouter-strategy': 'round-robin' };
      const rotated = await tally(fixture, 300, () => ({ body: ask('cheap'), headers: roundRobin }), { concurrency: 1 });
      expect(rotated.counts).toEqual({ 'a/cheap': 100, 'b/cheap': 100, 'c/cheap': 100 });
      const { headers } = await fixture.chat(ask('cheap'), roundRobin);
      expect(headers.get('x-dosrouter-strategy')).toBe('round-robin');
      expect((await fixture.explain(ask('cheap'), roundRobin)).strategy).toEqual({ name: 'round-robin', source: 'header' });
      // The next request without the header is back on the model's own strategy.
      const plain = await fixture.chat(ask('cheap'));
      expect(plain.headers.get('x-dosrouter-deployment')).toBe('c/cheap');
      expect(plain.headers.get('x-dosrouter-strategy')).toBe('cost');
    });

    it('answers 400 for an unknown strategy without calling a backend', async () => {
      const before = fixture.backendRequests();
      const error = await captureApiError(fixture.chat(ask('wrr'), { 'x-dosrouter-strategy': 'fastest' }));
      expect(error.status).toBe(400);
      expect(error.code).toBe('invalid_strategy');
      expect(error.param).toBe('x-dosrouter-strategy');
      expect(error.message).toContain('round-robin');
      expect(fixture.backendRequests()).toBe(before);
    });
  });

  describe('rules', () => {
    it('routes by the last user message (case-insensitive) and names the rule', async () => {
      const { headers } = await fixture.chat(ask('chatty', 'Write a PYTHON function that adds two numbers'));
      expect(headers.get('x-dosrouter-rule')).toBe('code');
      expect(headers.get('x-dosrouter-model')).toBe('coder');
      expect(fixture.lastUpstreamModel(headers)).toBe('coder');
    });

    it('leaves a request no rule matches on its model, without x-dosrouter-rule', async () => {
      const { headers } = await fixture.chat(ask('chatty', 'Tell me about pythons, the snakes'));
      expect(headers.get('x-dosrouter-rule')).toBeNull();
      expect(headers.get('x-dosrouter-deployment')).toBe('a/chatty');
    });

    it('routes by a header to a group, spread over its member models', async () => {
      const { counts } = await tally(fixture, 60, () => ({ body: ask('chatty'), headers: { 'x-team': 'batch' } }), { header: 'x-dosrouter-model' });
      expect(Object.keys(counts).sort()).toEqual(['g1', 'g2']);
      const { headers } = await fixture.chat(ask('chatty'), { 'x-team': 'batch' });
      expect(headers.get('x-dosrouter-rule')).toBe('batch');
      // The pattern is anchored: another team stays on the model.
      expect((await fixture.chat(ask('chatty'), { 'x-team': 'batch-2' })).headers.get('x-dosrouter-model')).toBe('chatty');
    });

    it('applies the first matching rule when several match', async () => {
      const { headers } = await fixture.chat(ask('chatty', 'Explain rust lifetimes'), { 'x-team': 'batch' });
      expect(headers.get('x-dosrouter-rule')).toBe('code');
    });

    it('routes by the prompt’s estimated size, within the range only', async () => {
      const notes = (times: number): string => 'Please read these meeting notes carefully. '.repeat(times); // ≈ 11 tokens each
      const { headers } = await fixture.chat(ask('chatty', notes(200)));
      expect(headers.get('x-dosrouter-rule')).toBe('long');
      expect(headers.get('x-dosrouter-model')).toBe('longctx');
      for (const outside of [notes(2), notes(500)]) {
        expect((await fixture.chat(ask('chatty', outside))).headers.get('x-dosrouter-model')).toBe('chatty');
      }
    });

    it('routes by metadata with the rule’s own strategy', async () => {
      const { counts } = await tally(fixture, 30, () => ({ body: { ...ask('chatty'), metadata: { tenant: 'acme' } } }));
      expect(counts).toEqual({ 'b/coder': 30 });
      const { headers } = await fixture.chat({ ...ask('chatty'), metadata: { tenant: 'acme' } });
      expect(headers.get('x-dosrouter-rule')).toBe('acme');
      expect(headers.get('x-dosrouter-strategy')).toBe('cost');
      expect((await fixture.chat({ ...ask('chatty'), metadata: { tenant: 'globex' } })).headers.get('x-dosrouter-rule')).toBeNull();
    });
  });

  describe('groups and aliases', () => {
    it('spreads a group over every deployment of its member models', async () => {
      const { counts } = await tally(fixture, 1_200, () => ({ body: ask('pool') }));
      expect(Object.keys(counts).sort()).toEqual(['a/g1', 'b/g2', 'c/g2']);
      // One deployment of g1 and two of g2, all of weight 1: a third each.
      for (const deployment of ['a/g1', 'b/g2', 'c/g2']) {
        expect(share(counts, deployment)).toBeGreaterThan(0.28);
        expect(share(counts, deployment)).toBeLessThan(0.39);
      }
    });

    it('routes an alias to its model and sends the backend the model’s id', async () => {
      const { headers } = await fixture.chat(ask('smart'));
      expect(headers.get('x-dosrouter-model')).toBe('coder');
      expect(fixture.lastUpstreamModel(headers)).toBe('coder');
    });

    it('lists models, aliases, groups and the virtual models in GET /v1/models', async () => {
      const ids = [];
      for await (const model of fixture.client.models.list()) ids.push(model.id);
      expect(ids).toEqual(expect.arrayContaining(['wrr', 'coder', 'smart', 'pool', 'auto', 'eco', 'premium']));
      expect(new Set(ids).size).toBe(ids.length);
    });
  });

  describe('fallbacks', () => {
    it('falls back when every deployment of the model is filtered out', async () => {
      const { headers } = await fixture.chat({ model: 'primary', messages: [imageMessage] });
      expect(headers.get('x-dosrouter-deployment')).toBe('c/backup');
      expect(headers.get('x-dosrouter-attempts')).toBe('1');
      const explanation = await fixture.explain({ model: 'primary', messages: [imageMessage] });
      expect(explanation.steps.map((step) => [step.model, step.source])).toEqual([
        ['primary', 'requested'],
        ['backup', 'fallback'],
      ]);
      expect(explanation.steps[0]!.candidates.map((candidate) => candidate.filter)).toEqual(['capabilities', 'capabilities']);
      expect(explanation.attempts).toEqual(['c/backup']);
    });

    it('falls back when every deployment of the model has an open circuit, and stops calling them', async () => {
      for (const backend of ['a', 'b']) fixture.simulators[backend]!.injectFaults({ kind: 'server_error', count: 1_000, model: 'primary' });
      try {
        const openCircuits = async (): Promise<number> =>
          (await fixture.explain(ask('primary'))).steps[0]!.candidates.filter((candidate) => candidate.filter === 'circuit_open').length;
        // While the circuits are still closed, each request fails on both deployments and the fallback answers it.
        for (let request = 0; request < 10 && (await openCircuits()) < 2; request += 1) {
          const { headers } = await fixture.chat(ask('primary'));
          expect(headers.get('x-dosrouter-deployment')).toBe('c/backup');
        }
        expect(await openCircuits()).toBe(2);
        const explanation = await fixture.explain(ask('primary'));
        expect(explanation.steps[0]!.candidates.map((candidate) => candidate.reason)).toEqual(['its circuit is open', 'its circuit is open']);
        expect(explanation.attempts).toEqual(['c/backup']);
        const primaryCalls = (): number => (fixture.simulators.a!.stats.byModel.primary ?? 0) + (fixture.simulators.b!.stats.byModel.primary ?? 0);
        const before = primaryCalls();
        const { counts } = await tally(fixture, 20, () => ({ body: ask('primary') }), { header: 'x-dosrouter-attempts' });
        // Straight to the fallback: one attempt each, and no call to the open deployments.
        expect(counts).toEqual({ '1': 20 });
        expect(primaryCalls()).toBe(before);
      } finally {
        for (const backend of ['a', 'b']) fixture.simulators[backend]!.clearFaults();
      }
    });
  });

  describe('virtual models', () => {
    const expectPriced = (headers: Headers, model: keyof typeof PRICES, usage: { prompt_tokens: number; completion_tokens: number }): void => {
      const cost = usd(model, usage.prompt_tokens, usage.completion_tokens);
      expect(Number(headers.get('x-dosrouter-cost-usd'))).toBeCloseTo(cost, 12);
      expect(Number(headers.get('x-dosrouter-savings'))).toBeCloseTo(usd('large', usage.prompt_tokens, usage.completion_tokens) - cost, 12);
    };

    it('sends a greeting to auto’s SIMPLE model, with tier, cost and savings headers from the usage', async () => {
      const { completion, headers } = await fixture.chat(ask('auto', 'hi'));
      expect(headers.get('x-dosrouter-tier')).toBe('SIMPLE');
      expect(headers.get('x-dosrouter-model')).toBe('small');
      expect(completion.usage!.prompt_tokens).toBeGreaterThan(0);
      expectPriced(headers, 'small', completion.usage!);
      expect(Number(headers.get('x-dosrouter-savings'))).toBeGreaterThan(0);
    });

    it('sends a proof to auto’s REASONING model', async () => {
      const { completion, headers } = await fixture.chat(ask('auto', PROOF));
      expect(headers.get('x-dosrouter-tier')).toBe('REASONING');
      expect(headers.get('x-dosrouter-model')).toBe('thinker');
      // Dearer than the baseline: the savings are negative.
      expectPriced(headers, 'thinker', completion.usage!);
      expect(Number(headers.get('x-dosrouter-savings'))).toBeLessThan(0);
    });

    it.each([
      ['Chinese', '请思考一步一步证明根号2是无理数。'],
      ['German', 'Beweise, dass die Wurzel aus 2 irrational ist.'],
    ])('sends a %s proof to the REASONING model', async (_language, prompt) => {
      const { headers } = await fixture.chat(ask('auto', prompt));
      expect(headers.get('x-dosrouter-tier')).toBe('REASONING');
      expect(headers.get('x-dosrouter-model')).toBe('thinker');
    });

    it('sends a request that offers tools to the agentic list', async () => {
      const { headers } = await fixture.chat({ ...ask('auto', 'hi'), tools: [weatherTool] });
      expect(headers.get('x-dosrouter-model')).toBe('agent');
      expect(headers.get('x-dosrouter-tier')).toBe('SIMPLE');
      const explanation = await fixture.explain({ ...ask('auto', 'hi'), tools: [weatherTool] });
      expect(explanation.classification?.agentic).toBe(true);
      expect(explanation.steps.map((step) => step.model)).toEqual(['agent']);
    });

    it('follows eco’s and premium’s own tier lists', async () => {
      const eco = await fixture.chat(ask('eco', PROOF));
      expect([eco.headers.get('x-dosrouter-tier'), eco.headers.get('x-dosrouter-model')]).toEqual(['REASONING', 'mid']);
      expectPriced(eco.headers, 'mid', eco.completion.usage!);
      const premium = await fixture.chat(ask('premium', 'hi'));
      expect([premium.headers.get('x-dosrouter-tier'), premium.headers.get('x-dosrouter-model')]).toEqual(['SIMPLE', 'large']);
      expect(premium.headers.get('x-dosrouter-savings')).toBe('0');
    });

    it('prices a stream from the estimated prompt tokens and max_tokens, since its headers precede the usage', async () => {
      const body = { ...ask('auto', 'hi'), max_tokens: 50 };
      const { estimated_prompt_tokens: estimated } = (await fixture.explain(body)).request;
      const { data: stream, response } = await fixture.client.chat.completions.create({ ...body, stream: true }).withResponse();
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      expect(text.length).toBeGreaterThan(0);
      expect(response.headers.get('x-dosrouter-tier')).toBe('SIMPLE');
      expect(Number(response.headers.get('x-dosrouter-cost-usd'))).toBeCloseTo(usd('small', estimated, 50), 12);
      expect(Number(response.headers.get('x-dosrouter-savings'))).toBeCloseTo(usd('large', estimated, 50) - usd('small', estimated, 50), 12);
    });

    it('sends no tier header for a real model', async () => {
      const { headers } = await fixture.chat(ask('wrr'));
      expect(headers.get('x-dosrouter-tier')).toBeNull();
    });
  });

  describe('session affinity', () => {
    it('keeps one session on one deployment across 50 requests', async () => {
      const { counts } = await tally(fixture, 50, () => ({ body: ask('sticky'), headers: { 'x-session-id': 'user-42' } }), { concurrency: 4 });
      expect(Object.values(counts)).toEqual([50]);
      const explanation = await fixture.explain(ask('sticky'), { 'x-session-id': 'user-42' });
      expect(explanation.session).toEqual({ id: 'user-42', deployment: Object.keys(counts)[0] });
      expect(explanation.attempts[0]).toBe(Object.keys(counts)[0]);
    });

    it('spreads different sessions over the deployments, each staying where it started', async () => {
      const sessions = 60;
      const { sequence } = await tally(fixture, sessions * 2, (index) => ({ body: ask('sticky'), headers: { 'x-session-id': `session-${index % sessions}` } }));
      const sessionsPer: Record<string, number> = {};
      for (let session = 0; session < sessions; session += 1) {
        const [first, second] = [sequence[session]!, sequence[session + sessions]!];
        expect(second, `session-${session}`).toBe(first);
        sessionsPer[first] = (sessionsPer[first] ?? 0) + 1;
      }
      expect(Object.keys(sessionsPer).sort()).toEqual(['a/sticky', 'b/sticky', 'c/sticky']);
      for (const count of Object.values(sessionsPer)) expect(count).toBeGreaterThanOrEqual(10);
    });
  });

  describe('POST /v1/router/explain', () => {
    it('explains decisions without calling any backend', async () => {
      const before = fixture.backendRequests();
      for (let index = 0; index < 20; index += 1) await fixture.explain(ask('wrr'));
      await fixture.explain(ask('auto', PROOF));
      await fixture.explain({ model: 'cap', messages: [imageMessage], tools: [weatherTool] });
      expect(fixture.backendRequests()).toBe(before);
    });

    it('shows each candidate with the filter and reason that rejected it, and the attempt order', async () => {
      const explanation = await fixture.explain({ ...ask('cap'), tools: [weatherTool] });
      expect(explanation.target).toEqual({ kind: 'model', name: 'cap' });
      expect(explanation.request.required_capabilities).toEqual(['tools']);
      expect(explanation.steps[0]!.candidates.map(({ deployment, passed, filter, reason }) => ({ deployment, passed, filter, reason }))).toEqual([
        { deployment: 'a/cap', passed: false, filter: 'capabilities', reason: 'lacks tools' },
        { deployment: 'b/cap', passed: true, filter: null, reason: null },
        { deployment: 'c/cap', passed: false, filter: 'capabilities', reason: 'lacks tools' },
      ]);
      expect(explanation.attempts).toEqual(['b/cap']);
    });

    it('shows size filters and the error the request would get', async () => {
      const sized = await fixture.explain({ ...ask('cap'), max_tokens: 5_000 });
      expect(sized.request.max_output_tokens).toBe(5_000);
      expect(sized.steps[0]!.candidates.map((candidate) => candidate.filter)).toEqual(['max_output', 'max_output', null]);
      const refused = await fixture.explain({ model: 'cap', messages: [imageMessage], tools: [weatherTool] });
      expect(refused.attempts).toEqual([]);
      expect(refused.status).toBe(400);
      expect(refused.error?.code).toBe('no_capable_deployment');
    });

    it('shows the tier and the classifier’s reasons for a virtual model', async () => {
      const explanation = await fixture.explain(ask('auto', PROOF));
      expect(explanation.target).toEqual({ kind: 'virtual', name: 'auto' });
      expect(explanation.classification?.tier).toBe('REASONING');
      expect(explanation.classification?.reasons.length).toBeGreaterThan(0);
      expect(explanation.steps.map((step) => [step.model, step.source])).toEqual([
        ['thinker', 'tier'],
        ['large', 'tier'],
      ]);
      expect(explanation.attempts).toEqual(['b/thinker', 'b/large']);
    });

    it('shows the rule that matched and where it sent the request', async () => {
      const explanation = await fixture.explain(ask('chatty', 'Refactor this TypeScript'));
      expect(explanation.rule).toBe('code');
      expect(explanation.target).toEqual({ kind: 'model', name: 'coder' });
      expect(explanation.steps[0]!.source).toBe('rule');
      expect((await fixture.explain(ask('chatty'), { 'x-team': 'batch' })).target).toEqual({ kind: 'group', name: 'pool' });
    });
  });
});

// Embedded mode refreshes its snapshot's stats from memory, cluster mode from Redis; both at pollIntervalMs.
describe.each([
  { mode: 'embedded, stats in memory', redis: { pollIntervalMs: 50 } },
  { mode: 'cluster, stats shared through Redis', redis: { url: TEST_REDIS_URL, pollIntervalMs: 50 } },
])('the latency strategy ($mode)', ({ redis }) => {
  let fixture: RoutingFixture;
  beforeAll(async () => {
    fixture = await startRoutingFixture({
      backends: [
        { name: 'fast', models: [{ name: 'lat' }] },
        // 400 ms is far beyond the strategy's 50 ms tolerance band, so the slow deployment stops sharing the load, also
        // when a busy machine adds its own queueing to the fast one's latency (with 80 ms it did: 8 of 500 went slow).
        { name: 'slow', models: [{ name: 'lat' }], simulated: { lat: { headersDelayMs: 400 } } },
      ],
      document: { redis, routing: { strategy: 'latency' } },
    });
  });
  afterAll(() => fixture?.close());

  it('tries both deployments while it knows neither, then sends the traffic to the faster one', async () => {
    const latencies = async (): Promise<Record<string, number | null>> => {
      const [step] = (await fixture.explain(ask('lat'))).steps;
      return Object.fromEntries(step!.candidates.map((candidate) => [candidate.deployment, candidate.mean_latency_ms]));
    };
    expect(await latencies()).toEqual({ 'fast/lat': null, 'slow/lat': null });
    // One answer's latency reaches the replica's snapshot at the next refresh (every 50 ms here).
    const first = (await fixture.chat(ask('lat'))).headers.get('x-dosrouter-deployment')!;
    await eventually(async () => (await latencies())[first] !== null, 10_000, 'the first answer’s latency in the snapshot');

    const warmUp = await tally(fixture, 30, () => ({ body: ask('lat') }), { concurrency: 1 });
    expect(Object.keys({ ...warmUp.counts, [first]: 1 }).sort()).toEqual(['fast/lat', 'slow/lat']);
    await eventually(async () => Object.values(await latencies()).every((latency) => latency !== null), 10_000, 'both latencies in the snapshot');
    const { 'fast/lat': fast, 'slow/lat': slow } = (await latencies()) as Record<string, number>;
    expect(slow! - fast!).toBeGreaterThan(50);
    const { counts } = await tally(fixture, 500, () => ({ body: ask('lat') }), { concurrency: 8 });
    expect(counts).toEqual({ 'fast/lat': 500 });
  });
});
