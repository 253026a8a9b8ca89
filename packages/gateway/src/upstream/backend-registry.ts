import { startSimulator, type Simulator } from '@dosrouter/provider-sim';
import type { BackendConfig, GatewayConfig } from '@dosrouter/shared';
import { Backend } from './backend.js';

/** One backend and what it was made from: a reload keeps it, pool and connections, while that stays the same. */
interface RegisteredBackend {
  readonly backend: Backend;
  /** The in-process simulator behind a `simulator:` backend. */
  readonly simulator?: Simulator;
  /** Its config and the default timeouts it was built with, as JSON: equal means the same backend. */
  readonly madeFrom: string;
}

function madeFromOf(backendConfig: BackendConfig, config: GatewayConfig): string {
  return JSON.stringify([backendConfig, config.upstream.timeouts]);
}

/**
 * All configured backends by name. Backends configured with `simulator:` are provider simulators started
 * in this process on an ephemeral loopback port (the demo config uses them), so a first run needs nothing else.
 * A config reload builds the next registry from the last one (`create(config, previous)`): a backend whose settings
 * did not change is the same object, pool and all; the others are new, and the old ones are closed by whoever owns
 * the registries once no request uses them (`close(except)`).
 */
export class BackendRegistry {
  private constructor(private readonly backends: ReadonlyMap<string, RegisteredBackend>) {}

  static async create(config: GatewayConfig, previous?: BackendRegistry): Promise<BackendRegistry> {
    const backends = new Map<string, RegisteredBackend>();
    const made: RegisteredBackend[] = [];
    try {
      for (const backendConfig of config.backends) {
        const madeFrom = madeFromOf(backendConfig, config);
        const kept = previous?.backends.get(backendConfig.name);
        if (kept?.madeFrom === madeFrom) {
          backends.set(backendConfig.name, kept);
          continue;
        }
        let baseUrl = backendConfig.baseUrl;
        let simulator: Simulator | undefined;
        if (backendConfig.simulator) {
          simulator = await startSimulator({
            apiKey: backendConfig.apiKey,
            models: backendConfig.models.map((model) => ({
              id: model.upstreamModel ?? model.name,
              contextWindow: model.contextWindow,
              ...backendConfig.simulator,
            })),
          });
          // The simulator's base URL includes /v1, as an OpenAI base URL does; an Anthropic base URL is the origin.
          baseUrl = backendConfig.kind === 'anthropic' ? new URL(simulator.baseUrl).origin : simulator.baseUrl;
        }
        if (!baseUrl) {
          await simulator?.close();
          throw new Error(`backend ${backendConfig.name} has no baseUrl`);
        }
        const registered = { backend: new Backend(backendConfig, baseUrl, config.upstream.timeouts), madeFrom, ...(simulator ? { simulator } : {}) };
        made.push(registered);
        backends.set(backendConfig.name, registered);
      }
    } catch (error) {
      await Promise.all(made.map((registered) => destroy(registered)));
      throw error;
    }
    return new BackendRegistry(backends);
  }

  get(name: string): Backend {
    const backend = this.backends.get(name)?.backend;
    if (!backend) throw new Error(`unknown backend ${name}`);
    return backend;
  }

  /** Whether this registry holds this very backend object (a later registry may have kept it). */
  holds(backend: Backend): boolean {
    return this.backends.get(backend.name)?.backend === backend;
  }

  /** The names of backends built anew or gone between `previous` and this registry: for the reload's log line. */
  changedSince(previous: BackendRegistry): { readonly added: string[]; readonly replaced: string[]; readonly removed: string[] } {
    const added: string[] = [];
    const replaced: string[] = [];
    for (const [name, registered] of this.backends) {
      const before = previous.backends.get(name);
      if (!before) added.push(name);
      else if (before !== registered) replaced.push(name);
    }
    return { added, replaced, removed: [...previous.backends.keys()].filter((name) => !this.backends.has(name)) };
  }

  /**
   * Closes the backends, except those another registry still holds (`keep`): each pool finishes the requests it
   * has (undici's close waits for them), then its simulator, if any, stops.
   */
  async close(keep: readonly BackendRegistry[] = []): Promise<void> {
    await Promise.all(
      this.ownedBy(keep).map(async ({ backend, simulator }) => {
        await backend.close();
        await simulator?.close();
      }),
    );
  }

  /** Shutdown, once the drain is over: the pools destroyed (what is left is cut), their simulators stopped. */
  async destroy(keep: readonly BackendRegistry[] = []): Promise<void> {
    await Promise.all(this.ownedBy(keep).map((registered) => destroy(registered)));
  }

  private ownedBy(keep: readonly BackendRegistry[]): RegisteredBackend[] {
    return [...this.backends.values()].filter((registered) => !keep.some((registry) => registry.holds(registered.backend)));
  }
}

async function destroy({ backend, simulator }: RegisteredBackend): Promise<void> {
  await backend.destroy();
  await simulator?.close();
}
