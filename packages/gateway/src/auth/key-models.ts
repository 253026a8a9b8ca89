import { isVirtualModel, type ModelCatalog } from '@dosrouter/shared';

/**
 * What a key's `allowedModels` grants, name by name: a model grants itself; an alias its model; a group its members;
 * a virtual model (`auto`, `eco`, `premium`) the models of its tiers, but only when the request was routed to that
 * virtual model. Checked against what the request was routed to after rules, and model by model along fallbacks, so
 * neither a rule the client can trigger (a header) nor a fallback chain reaches a model the key may not use.
 */
export class KeyModelPermissions {
  private readonly expanded = new WeakMap<readonly string[], { readonly models: ReadonlySet<string>; readonly virtual: ReadonlySet<string> }>();

  /** A Map, not the config's object: `allowedModels` may name `toString` or `constructor`. */
  private readonly groups: ReadonlyMap<string, readonly string[]>;

  constructor(
    private readonly catalog: ModelCatalog,
    groups: Readonly<Record<string, readonly string[]>>,
  ) {
    this.groups = new Map(Object.entries(groups));
  }

  allows(allowed: readonly string[]): (model: string, target: string) => boolean {
    const { models, virtual } = this.expand(allowed);
    return (model, target) => models.has(model) || virtual.has(target);
  }

  /**
   * Whether a key may name `name` in a request: what `/v1/models` lists to it. A model when it is granted; an alias
   * when its model is; a group when at least one member is (the others are filtered out when it is routed); a
   * virtual model only when the key names it, since without that grant whether a request gets through depends on
   * the tier its prompt is classified in.
   */
  mayName(allowed: readonly string[]): (name: string) => boolean {
    const { models, virtual } = this.expand(allowed);
    const granted = (name: string): boolean => {
      const group = this.catalog.resolve(name);
      return group !== undefined && models.has(group.name);
    };
    return (name) => {
      if (isVirtualModel(name)) return virtual.has(name);
      const members = this.groups.get(name);
      return members ? members.some(granted) : granted(name);
    };
  }

  private expand(allowed: readonly string[]) {
    let entry = this.expanded.get(allowed);
    if (entry) return entry;
    const models = new Set<string>();
    const virtual = new Set<string>();
    const addModel = (name: string): void => {
      const group = this.catalog.resolve(name);
      if (group) models.add(group.name);
    };
    for (const name of allowed) {
      if (isVirtualModel(name)) virtual.add(name);
      else (this.groups.get(name) ?? [name]).forEach(addModel);
    }
    entry = { models, virtual };
    this.expanded.set(allowed, entry);
    return entry;
  }
}
