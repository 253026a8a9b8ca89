import { describe, expect, it } from 'vitest';
import { routingSchema } from '../../config/routing-schema.js';
import { compileRules, firstMatchingRule, type RuleSubject } from './rules.js';

/** Rules as config gives them (header names lower-cased by the schema), compiled. */
function rules(...configured: { name: string; match?: Record<string, unknown>; route?: Record<string, unknown> }[]) {
  return compileRules(routingSchema.parse({ rules: configured.map((rule) => ({ route: { model: 'target' }, ...rule })) }).rules);
}

const SUBJECT: RuleSubject = {
  model: 'gpt-4o',
  path: '/v1/chat/completions',
  headers: { 'x-team': 'Search-Platform', 'user-agent': 'openai-python/1.40' },
  metadata: { tier: 'gold', region: 'eu' },
  lastUserText: 'Please summarise this contract',
  promptTokens: 1_200,
};

/** Whether the one rule with this match condition matches the subject, as changed by `changes`. */
function matches(match: Record<string, unknown>, changes: Partial<RuleSubject> = {}): boolean {
  const [rule] = rules({ name: 'only', match });
  return rule!.matches({ ...SUBJECT, ...changes });
}

describe('compileRules', () => {
  it('keeps each rule\'s name and route', () => {
    const [rule] = rules({ name: 'to-group', route: { group: 'pool', strategy: 'cost' } });
    expect(rule).toMatchObject({ name: 'to-group', route: { group: 'pool', strategy: 'cost' } });
  });

  it('matches every request with an empty match', () => {
    expect(matches({})).toBe(true);
  });

  it('matches the requested model against one name or a list', () => {
    expect(matches({ model: 'gpt-4o' })).toBe(true);
    expect(matches({ model: ['claude', 'gpt-4o'] })).toBe(true);
    expect(matches({ model: ['claude', 'gpt-4o-mini'] })).toBe(false);
  });

  it('matches the path exactly, one or a list', () => {
    expect(matches({ path: '/v1/chat/completions' })).toBe(true);
    expect(matches({ path: ['/v1/completions', '/v1/embeddings'] })).toBe(false);
    expect(matches({ path: '/v1/chat' })).toBe(false);
  });

  it('matches a header by regular expression, ignoring case in the value and in the configured name', () => {
    expect(matches({ headers: { 'x-team': '^search-' } })).toBe(true);
    expect(matches({ headers: { 'X-Team': 'PLATFORM$' } })).toBe(true);
    expect(matches({ headers: { 'x-team': '^billing' } })).toBe(false);
  });

  it('never matches a header the request does not send', () => {
    expect(matches({ headers: { 'x-missing': '.*' } })).toBe(false);
  });

  it('matches a repeated header when any of its values matches', () => {
    expect(matches({ headers: { 'x-team': '^ads$' } }, { headers: { 'x-team': ['search', 'ads'] } })).toBe(true);
    expect(matches({ headers: { 'x-team': '^ads$' } }, { headers: { 'x-team': ['search', 'maps'] } })).toBe(false);
  });

  it('needs every configured header to match', () => {
    expect(matches({ headers: { 'x-team': 'search', 'user-agent': 'python' } })).toBe(true);
    expect(matches({ headers: { 'x-team': 'search', 'user-agent': 'node' } })).toBe(false);
  });

  it('matches metadata values exactly: no pattern, no case folding', () => {
    expect(matches({ metadata: { tier: 'gold', region: 'eu' } })).toBe(true);
    expect(matches({ metadata: { tier: 'Gold' } })).toBe(false);
    expect(matches({ metadata: { tier: 'gol' } })).toBe(false);
    expect(matches({ metadata: { plan: 'gold' } })).toBe(false);
  });

  it('matches the last user message by case-insensitive, Unicode-aware regular expression', () => {
    expect(matches({ lastUserMessage: '\\bSUMMARI[SZ]E\\b' })).toBe(true);
    expect(matches({ lastUserMessage: '^translate' })).toBe(false);
    expect(matches({ lastUserMessage: '\\p{Script=Han}' }, { lastUserText: '请总结这份合同' })).toBe(true);
  });

  it('matches the prompt size within min and max, both inclusive', () => {
    expect(matches({ promptTokens: { min: 1_200 } })).toBe(true);
    expect(matches({ promptTokens: { min: 1_201 } })).toBe(false);
    expect(matches({ promptTokens: { max: 1_200 } })).toBe(true);
    expect(matches({ promptTokens: { max: 1_199 } })).toBe(false);
    expect(matches({ promptTokens: { min: 1_000, max: 2_000 } })).toBe(true);
    expect(matches({ promptTokens: { min: 1_000, max: 2_000 } }, { promptTokens: 2_001 })).toBe(false);
  });

  it('needs every condition of a rule to hold', () => {
    const match = { model: 'gpt-4o', path: '/v1/chat/completions', metadata: { tier: 'gold' }, lastUserMessage: 'contract' };
    expect(matches(match)).toBe(true);
    expect(matches(match, { model: 'claude' })).toBe(false);
    expect(matches(match, { path: '/v1/completions' })).toBe(false);
    expect(matches(match, { metadata: {} })).toBe(false);
    expect(matches(match, { lastUserText: 'hello' })).toBe(false);
  });
});

describe('firstMatchingRule', () => {
  const compiled = rules(
    { name: 'long-prompts', match: { promptTokens: { min: 10_000 } } },
    { name: 'gold', match: { metadata: { tier: 'gold' } } },
    { name: 'everything', match: {} },
  );

  it('takes the first rule that matches, in configured order', () => {
    expect(firstMatchingRule(compiled, SUBJECT)?.name).toBe('gold');
    expect(firstMatchingRule(compiled, { ...SUBJECT, promptTokens: 50_000 })?.name).toBe('long-prompts');
    expect(firstMatchingRule(compiled, { ...SUBJECT, metadata: {} })?.name).toBe('everything');
  });

  it('is undefined when no rule matches, or there are none', () => {
    expect(firstMatchingRule(compiled.slice(0, 2), { ...SUBJECT, metadata: {} })).toBeUndefined();
    expect(firstMatchingRule([], SUBJECT)).toBeUndefined();
  });
});
