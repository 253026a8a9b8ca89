import { isVirtualModel } from '../routing/classifier/profiles.js';
import { BUILT_IN_STRATEGY_NAMES } from '../routing/strategies/registry.js';
import type { ConfigPath, ConfigProblem } from './config-path.js';
import { didYouMean } from './did-you-mean.js';

export interface ReferenceOptions {
  /**
   * Strategies registered besides the built-ins (those of `routing.strategyModules`, once loaded). Unset while the
   * config lists strategy modules: their names cannot be known before they load, so strategy names go unchecked.
   */
  readonly strategyNames?: readonly string[];
}

/**
 * The checks that span sections: unique names, and every name a section refers to (an alias's model, a group's
 * members, a rule's model, group and strategy, fallbacks, tier lists) is defined. They read the document as parsed,
 * skipping any part that does not have the expected shape, so that they run — and report — even when the schema
 * found other problems.
 */
export function referenceProblems(document: unknown, options: ReferenceOptions = {}): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const problem = (path: ConfigPath, message: string): void => void problems.push({ path, message });
  const root = record(document);
  const routing = record(root?.routing);
  const models = new Set<string>();
  const backendNames = new Set<string>();
  list(root?.backends).forEach((backend, backendIndex) => {
    const name = text(record(backend)?.name);
    if (name !== undefined && backendNames.has(name)) problem(['backends', backendIndex, 'name'], `duplicate backend "${name}"`);
    if (name !== undefined) backendNames.add(name);
    const servedHere = new Set<string>();
    list(record(backend)?.models).forEach((model, modelIndex) => {
      const modelName = text(record(model)?.name);
      if (modelName === undefined) return;
      if (servedHere.has(modelName)) problem(['backends', backendIndex, 'models', modelIndex, 'name'], `"${modelName}" is listed twice in backend "${name}"`);
      servedHere.add(modelName);
      models.add(modelName);
    });
  });
  const aliases = Object.entries(record(root?.aliases) ?? {});
  const aliasNames = new Set(aliases.map(([alias]) => alias));
  const groups = record(routing?.groups) ?? {};
  const groupNames = new Set(Object.keys(groups));
  const unknown = (name: string, kind: string, known: Iterable<string>): string => `"${name}" is not a configured ${kind}${didYouMean(name, known)}`;
  const requireModel = (value: unknown, path: ConfigPath): void => {
    const name = text(value);
    if (name !== undefined && !models.has(name) && !aliasNames.has(name)) problem(path, unknown(name, 'model or alias', [...models, ...aliasNames]));
  };
  const knownStrategies = strategyNames(routing, options);
  const requireStrategy = (value: unknown, path: ConfigPath): void => {
    const name = text(value);
    if (name !== undefined && knownStrategies !== undefined && !knownStrategies.includes(name)) {
      problem(path, `"${name}" is not a routing strategy (known: ${knownStrategies.join(', ')})${didYouMean(name, knownStrategies)}`);
    }
  };

  for (const [alias, target] of aliases) {
    if (models.has(alias)) problem(['aliases', alias], `"${alias}" is already a model name`);
    const name = text(target);
    if (name !== undefined && !models.has(name)) problem(['aliases', alias], `no backend serves model "${name}"${didYouMean(name, models)}`);
  }
  for (const [group, members] of Object.entries(groups)) {
    if (models.has(group) || aliasNames.has(group)) problem(['routing', 'groups', group], `"${group}" is already a model or alias name`);
    if (isVirtualModel(group)) problem(['routing', 'groups', group], `"${group}" is a virtual model name`);
    list(members).forEach((member, index) => requireModel(member, ['routing', 'groups', group, index]));
  }
  requireStrategy(routing?.strategy, ['routing', 'strategy']);
  for (const [model, settings] of Object.entries(record(routing?.models) ?? {})) {
    if (!models.has(model) && !groupNames.has(model)) problem(['routing', 'models', model], unknown(model, 'model or group', [...models, ...groupNames]));
    requireStrategy(record(settings)?.strategy, ['routing', 'models', model, 'strategy']);
    list(record(settings)?.fallbacks).forEach((fallback, index) => requireModel(fallback, ['routing', 'models', model, 'fallbacks', index]));
  }
  list(routing?.rules).forEach((rule, index) => {
    const route = record(record(rule)?.route);
    const model = text(route?.model);
    if (model !== undefined && !isVirtualModel(model)) requireModel(model, ['routing', 'rules', index, 'route', 'model']);
    const group = text(route?.group);
    if (group !== undefined && !groupNames.has(group)) {
      problem(['routing', 'rules', index, 'route', 'group'], `"${group}" is not a group under routing.groups${didYouMean(group, groupNames)}`);
    }
    requireStrategy(route?.strategy, ['routing', 'rules', index, 'route', 'strategy']);
  });
  for (const [profile, lists] of Object.entries(record(routing?.profiles) ?? {})) {
    for (const kind of ['tiers', 'agenticTiers']) {
      for (const [tier, names] of Object.entries(record(record(lists)?.[kind]) ?? {})) {
        list(names).forEach((name, index) => requireModel(name, ['routing', 'profiles', profile, kind, tier, index]));
      }
    }
  }
  requireModel(routing?.savingsBaseline, ['routing', 'savingsBaseline']);
  // The cache matches the routed name: a model (an alias resolved to it), a group or a virtual model.
  list(record(root?.cache)?.models).forEach((value, index) => {
    const name = text(value);
    if (name === undefined) return;
    const path: ConfigPath = ['cache', 'models', index];
    if (aliasNames.has(name)) problem(path, `"${name}" is an alias: the cache matches the model it resolves to, "${text(record(root?.aliases)?.[name]) ?? ''}"`);
    else if (!models.has(name) && !groupNames.has(name) && !isVirtualModel(name)) problem(path, unknown(name, 'model, group or virtual model', [...models, ...groupNames]));
  });
  return problems;
}

/** The strategy names a config may use, or undefined when they cannot be known yet. */
function strategyNames(routing: Record<string, unknown> | undefined, options: ReferenceOptions): string[] | undefined {
  if (options.strategyNames === undefined && list(routing?.strategyModules).length > 0) return undefined;
  return [...BUILT_IN_STRATEGY_NAMES, ...(options.strategyNames ?? [])];
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
