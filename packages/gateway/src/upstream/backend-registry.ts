import { startSimulator, type Simulator } from '@dosrouter/provider-sim';
import type { GatewayConfig } from '@dosrouter/shared';
import { Backend } from './backend.js';

/**
 * All configured backends by name. Backends configured with `simulator:` are provider simulators started
 * in this process on an ephemeral loopback port (the demo config uses them), so a first run needs nothing else.
 */
export class BackendRegistry {
  private constructor(
    private readonly backends: ReadonlyMap<string, Backend>,
    private readonly simulators: readonly Simulator[],
  ) {}

  static async create(config: GatewayConfig): Promise<BackendRegistry> {
    const backends = new Map<string, Backend>();
    const simulators: Simulator[] = [];
    try {
      for (const backendConfig of config.backends) {
        let baseUrl = backendConfig.baseUrl;
        if (backendConfig.simulator) {
          const simulator = await startSimulator({
            apiKey: backendConfig.apiKey,
            models: backendConfig.models.map((model) => ({
              id: model.upstreamModel ?? model.name,
              contextWindow: model.contextWindow,
              ...backendConfig.simulator,
            })),
          });
          simulators.push(simulator);
          // The simulator's base URL includes /v1, as an OpenAI base URL does; an Anthropic base URL is the origin.
          baseUrl = backendConfig.kind === 'anthropic' ? new URL(simulator.baseUrl).origin : simulator.baseUrl;
        }
        if (!baseUrl) throw new Error(`backend ${backendConfig.name} has no baseUrl`);
        backends.set(backendConfig.name, new Backend(backendConfig, baseUrl, config.upstream.timeouts));
      }
    } catch (error) {
      await Promise.all([...backends.values()].map((backend) => backend.destroy()));
      await Promise.all(simulators.map((simulator) => simulator.close()));
      throw error;
    }
    return new BackendRegistry(backends, simulators);
  }

  get(name: string): Backend {
    const backend = this.backends.get(name);
    if (!backend) throw new Error(`unknown backend ${name}`);
    return backend;
  }

  async close(): Promise<void> {
    await Promise.all([...this.backends.values()].map((backend) => backend.destroy()));
    await Promise.all(this.simulators.map((simulator) => simulator.close()));
  }
}
