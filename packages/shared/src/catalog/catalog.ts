import type { AnthropicDeploymentConfig, BreakerConfig, Capability, GatewayConfig, Pricing } from '../config/schema.js';
import { resolveProbeSettings, type ProbeSettings } from '../config/probe-settings.js';
import type { RateLimits } from '../state/limits.js';

/** One model served by one backend: the unit the router chooses between. */
export interface Deployment {
  /** `<backend>/<model>`: stable, unique, shown in `x-dosrouter-deployment`, logs and metrics. */
  readonly id: string;
  readonly backend: string;
  /** The name clients use. */
  readonly model: string;
  /** The backend's own id, written into the forwarded body's `model`. */
  readonly upstreamModel: string;
  readonly weight: number;
  readonly pricing: Pricing;
  readonly contextWindow: number;
  /** Unset: the gateway does not check `max_tokens` against it. */
  readonly maxOutputTokens?: number;
  readonly capabilities: ReadonlySet<Capability>;
  readonly limits: RateLimits;
  /** Requests the gateway sends it at once, cluster-wide (`maxConcurrent`); past it they wait. Unset: no limit. */
  readonly maxConcurrent?: number;
  /** The `breakers` defaults with this deployment's overrides applied. */
  readonly breaker: BreakerConfig;
  /** How the health prober checks it; absent when it is not probed. */
  readonly probe?: ProbeSettings;
  /** A deployment of a `kind: anthropic` backend: how chat completions are translated for it. */
  readonly anthropic?: AnthropicDeploymentConfig;
}

/** A client-facing model and the deployments that serve it. */
export interface ModelGroup {
  readonly name: string;
  readonly deployments: readonly Deployment[];
}

/** The models this gateway serves, from config. Immutable; a config reload builds a new one. */
export class ModelCatalog {
  private readonly groups = new Map<string, ModelGroup>();
  private readonly aliases = new Map<string, string>();
  private readonly deploymentsById = new Map<string, Deployment>();

  constructor(config: Pick<GatewayConfig, 'backends' | 'aliases' | 'breakers'> & Partial<Pick<GatewayConfig, 'prober'>>) {
    const byModel = new Map<string, Deployment[]>();
    for (const backend of config.backends) {
      for (const model of backend.models) {
        const probe = config.prober && resolveProbeSettings(config.prober.probe, backend.probe, model.probe);
        const deployment: Deployment = {
          id: `${backend.name}/${model.name}`,
          backend: backend.name,
          model: model.name,
          upstreamModel: model.upstreamModel ?? model.name,
          weight: model.weight,
          pricing: model.pricing,
          contextWindow: model.contextWindow,
          ...(model.maxOutputTokens === undefined ? {} : { maxOutputTokens: model.maxOutputTokens }),
          capabilities: new Set(model.capabilities),
          limits: model.limits,
          ...(model.maxConcurrent === undefined ? {} : { maxConcurrent: model.maxConcurrent }),
          breaker: { ...config.breakers, ...model.breaker },
          ...(probe === undefined ? {} : { probe }),
          ...(backend.kind === 'anthropic' ? { anthropic: model.anthropic } : {}),
        };
        this.deploymentsById.set(deployment.id, deployment);
        const list = byModel.get(model.name) ?? [];
        list.push(deployment);
        byModel.set(model.name, list);
      }
    }
    for (const [name, deployments] of byModel) this.groups.set(name, { name, deployments });
    for (const [alias, target] of Object.entries(config.aliases)) this.aliases.set(alias, target);
  }

  /** The model a client-facing name or alias refers to, or undefined. */
  resolve(name: string): ModelGroup | undefined {
    return this.groups.get(name) ?? this.groups.get(this.aliases.get(name) ?? '');
  }

  deployment(id: string): Deployment | undefined {
    return this.deploymentsById.get(id);
  }

  models(): ModelGroup[] {
    return [...this.groups.values()];
  }

  deployments(): Deployment[] {
    return [...this.deploymentsById.values()];
  }

  aliasEntries(): [alias: string, model: string][] {
    return [...this.aliases.entries()];
  }
}
