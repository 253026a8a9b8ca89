import { hasRedis, VIRTUAL_MODELS, type GatewayConfig, type ModelCatalog, type TierProfiles } from '@dosrouter/shared';

/** What a valid config sets up, resolved the way the gateway resolves it: `dosrouter check` prints it. */
export interface ConfigSummary {
  readonly config: string;
  readonly mode: 'cluster' | 'embedded';
  readonly backends: readonly { name: string; url: string; api: string; credential: 'set' | 'none'; models: string[] }[];
  readonly models: readonly { name: string; strategy: string; fallbacks: string[]; deployments: { id: string; upstreamModel: string; weight: number; probe: string }[] }[];
  readonly aliases: Readonly<Record<string, string>>;
  readonly groups: Readonly<Record<string, string[]>>;
  readonly virtualModels: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
  readonly rules: readonly { name: string; match: string; route: string }[];
  /** Every name a client may send in `model`, and what it reaches. */
  readonly routes: readonly { name: string; kind: 'model' | 'alias' | 'group' | 'virtual'; deployments: string[] }[];
}

export function summarizeConfig(configPath: string, config: GatewayConfig, catalog: ModelCatalog, profiles: TierProfiles): ConfigSummary {
  const { routing } = config;
  const deploymentsOf = (model: string): string[] => catalog.resolve(model)?.deployments.map((deployment) => deployment.id) ?? [];
  const routes: ConfigSummary['routes'][number][] = [
    ...catalog.models().map((model) => ({ name: model.name, kind: 'model' as const, deployments: deploymentsOf(model.name) })),
    ...catalog.aliasEntries().map(([alias, model]) => ({ name: alias, kind: 'alias' as const, deployments: deploymentsOf(model) })),
    ...Object.entries(routing.groups).map(([group, members]) => ({ name: group, kind: 'group' as const, deployments: members.flatMap(deploymentsOf) })),
    ...VIRTUAL_MODELS.map((name) => ({
      name,
      kind: 'virtual' as const,
      deployments: [...new Set(Object.values(profiles[name].tiers).flat().flatMap(deploymentsOf))],
    })),
  ];
  return {
    config: configPath,
    mode: hasRedis(config) ? 'cluster' : 'embedded',
    backends: config.backends.map((backend) => ({
      name: backend.name,
      url: backend.baseUrl ?? 'simulator (in-process)',
      // What it speaks: `openai` (Chat Completions), `openai/responses`, `anthropic`.
      api: backend.api === 'responses' ? `${backend.kind}/responses` : backend.kind,
      credential: backend.apiKey ? 'set' : 'none',
      models: backend.models.map((model) => model.name),
    })),
    models: catalog.models().map((model) => ({
      name: model.name,
      strategy: routing.models[model.name]?.strategy ?? routing.strategy,
      fallbacks: routing.models[model.name]?.fallbacks ?? [],
      deployments: model.deployments.map((deployment) => ({
        id: deployment.id,
        upstreamModel: deployment.upstreamModel,
        weight: deployment.weight,
        probe: deployment.probe ? `${deployment.probe.kind} every ${deployment.probe.intervalMs} ms` : 'off',
      })),
    })),
    aliases: Object.fromEntries(catalog.aliasEntries()),
    groups: routing.groups,
    virtualModels: Object.fromEntries(VIRTUAL_MODELS.map((name) => [name, profiles[name].tiers])),
    rules: routing.rules.map((rule) => ({
      name: rule.name,
      match: Object.keys(rule.match).length === 0 ? 'every request' : JSON.stringify(rule.match),
      route: Object.entries(rule.route)
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) => `${key} ${String(value)}`)
        .join(', '),
    })),
    routes,
  };
}

/** The summary as text, one section per kind, for a terminal. */
export function formatConfigSummary(summary: ConfigSummary): string {
  const lines = [`${summary.config}: valid (${summary.mode} mode)`, '', `backends (${summary.backends.length}):`];
  for (const backend of summary.backends) {
    lines.push(`  ${backend.name}  ${backend.url}  ${backend.api}  credential: ${backend.credential}  models: ${backend.models.join(', ')}`);
  }
  lines.push('', `models (${summary.models.length}):`);
  for (const model of summary.models) {
    const fallbacks = model.fallbacks.length > 0 ? `, fallbacks: ${model.fallbacks.join(' → ')}` : '';
    lines.push(`  ${model.name}  strategy: ${model.strategy}${fallbacks}`);
    for (const deployment of model.deployments) {
      lines.push(`    ${deployment.id}  upstream: ${deployment.upstreamModel}  weight: ${deployment.weight}  probe: ${deployment.probe}`);
    }
  }
  const section = (title: string, entries: string[]): void => {
    lines.push('', `${title} (${entries.length}):`, ...(entries.length === 0 ? ['  (none)'] : entries.map((entry) => `  ${entry}`)));
  };
  section('aliases', Object.entries(summary.aliases).map(([alias, model]) => `${alias} → ${model}`));
  section('groups', Object.entries(summary.groups).map(([group, members]) => `${group} → ${members.join(', ')}`));
  section(
    'virtual models',
    Object.entries(summary.virtualModels).map(([name, tiers]) => `${name}: ${Object.entries(tiers).map(([tier, models]) => `${tier} [${models.join(', ')}]`).join('  ')}`),
  );
  section('rules', summary.rules.map((rule) => `${rule.name}: ${rule.match} → ${rule.route}`));
  section('routes', summary.routes.map((route) => `${route.name} (${route.kind}) → ${route.deployments.join(', ') || 'nothing'}`));
  return lines.join('\n');
}
