import { ModelCatalog, Router, configRevision, type GatewayConfig, type Strategy } from '@dosrouter/shared';
import { KeyModelPermissions } from '../auth/key-models.js';
import { AnswerPricing } from '../proxy/answer-pricing.js';
import { loadStrategies } from '../routing/strategy-modules.js';
import { BackendRegistry } from '../upstream/backend-registry.js';

/**
 * Everything a request needs that the config decides, made from one validated config and never changed: the
 * catalog (models, deployments, prices), the router (rules, strategies, profiles, retries), the backends (their
 * pools), what keys' `allowedModels` grant, and pricing. A request takes the current snapshot when it is accepted
 * (its RequestContext holds it) and runs on it to the end; a reload makes a new snapshot and swaps it in whole
 * (LiveConfig), so no request ever sees half of one config and half of another.
 */
export class ConfigSnapshot {
  /** Requests running on this snapshot (LiveConfig counts them): its backends close only once none is left. */
  users = 0;

  private constructor(
    readonly config: GatewayConfig,
    /** configRevision(config): what this replica publishes. */
    readonly revision: string,
    readonly catalog: ModelCatalog,
    readonly router: Router,
    readonly backends: BackendRegistry,
    readonly keyModels: KeyModelPermissions,
    readonly pricing: AnswerPricing,
  ) {}

  /**
   * Builds a snapshot, or throws (naming the problem) without leaving anything running: a strategy module that does
   * not load, a simulator that does not start. `previous`: the running snapshot, whose unchanged backends are kept.
   */
  static async build(config: GatewayConfig, strategies: readonly Strategy[], previous?: ConfigSnapshot): Promise<ConfigSnapshot> {
    const catalog = new ModelCatalog(config);
    const router = new Router(catalog, config.routing, await loadStrategies(config.routing.strategyModules, strategies));
    const backends = await BackendRegistry.create(config, previous?.backends);
    return new ConfigSnapshot(
      config,
      configRevision(config),
      catalog,
      router,
      backends,
      new KeyModelPermissions(catalog, config.routing.groups),
      new AnswerPricing(catalog, config.routing.savingsBaseline),
    );
  }
}
