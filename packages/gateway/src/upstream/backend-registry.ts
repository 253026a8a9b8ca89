import { startSimulator, type Simulator } from '@dosrouter/provider-sim';
import type { BackendKind, GatewayConfig } from '@dosrouter/shared';
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
          baseUrl = simulatedBaseUrl(backendConfig.kind, simulator.baseUrl);
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

/**
 * The base URL of an in-process simulator for a backend of `kind`: the simulator's own includes /v1, as an OpenAI base
 * URL does; an Anthropic base URL is the origin; a Gemini one the origin and /v1beta.
 */
function simulatedBaseUrl(kind: BackendKind, simulatorBaseUrl: string): string {
  const origin = new URL(simulatorBaseUrl).origin;
  switch (kind) {
    case 'anthropic':
      return origin;
    case 'gemini':
      return `${origin}/v1beta`;
    case 'openai':
      return simulatorBaseUrl;
  }
}
