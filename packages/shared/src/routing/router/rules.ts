import type { RoutingRule, RuleMatch, RuleRoute } from '../../config/routing-schema.js';

/** What a rule can look at. Header names are lower-case, as Node gives them. */
export interface RuleSubject {
  readonly model: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly metadata: Readonly<Record<string, string>>;
  readonly lastUserText: string;
  readonly promptTokens: number;
}

export interface CompiledRule {
  readonly name: string;
  readonly route: RuleRoute;
  matches(subject: RuleSubject): boolean;
}

/**
 * Compiles the configured rules once (regular expressions included), so that matching a request costs only the
 * conditions a rule has. Header and message patterns are case-insensitive and Unicode-aware.
 */
export function compileRules(rules: readonly RoutingRule[]): CompiledRule[] {
  return rules.map((rule) => ({ name: rule.name, route: rule.route, matches: compileMatch(rule.match) }));
}

/** One rule's conditions as a test: every condition given must hold; an empty match matches all. */
export function compileMatch(match: RuleMatch): (subject: RuleSubject) => boolean {
  const checks: ((subject: RuleSubject) => boolean)[] = [];
  if (match.model !== undefined) {
    const models = new Set(Array.isArray(match.model) ? match.model : [match.model]);
    checks.push((subject) => models.has(subject.model));
  }
  if (match.path !== undefined) {
    const paths = new Set(Array.isArray(match.path) ? match.path : [match.path]);
    checks.push((subject) => paths.has(subject.path));
  }
  for (const [name, source] of Object.entries(match.headers ?? {})) {
    const pattern = new RegExp(source, 'iu');
    checks.push((subject) => {
      const value = Object.hasOwn(subject.headers, name) ? subject.headers[name] : undefined;
      if (value === undefined) return false;
      return (Array.isArray(value) ? value : [value]).some((entry) => pattern.test(entry));
    });
  }
  for (const [key, expected] of Object.entries(match.metadata ?? {})) {
    checks.push((subject) => Object.hasOwn(subject.metadata, key) && subject.metadata[key] === expected);
  }
  if (match.lastUserMessage !== undefined) {
    const pattern = new RegExp(match.lastUserMessage, 'iu');
    checks.push((subject) => pattern.test(subject.lastUserText));
  }
  if (match.promptTokens !== undefined) {
    const { min = 0, max = Number.POSITIVE_INFINITY } = match.promptTokens;
    checks.push((subject) => subject.promptTokens >= min && subject.promptTokens <= max);
  }
  return (subject) => checks.every((check) => check(subject));
}

/** The first rule that matches, in configured order. */
export function firstMatchingRule(rules: readonly CompiledRule[], subject: RuleSubject): CompiledRule | undefined {
  for (const rule of rules) if (rule.matches(subject)) return rule;
  return undefined;
}
