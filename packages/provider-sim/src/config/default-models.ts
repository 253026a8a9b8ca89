import type { SimulatedModel } from '../types.js';

/** What the CLI serves without a config file: one instant model, one slow "capable" one, one in between. */
export const DEFAULT_SIMULATED_MODELS: readonly SimulatedModel[] = [
  { id: 'sim-fast', outputTokens: 16 },
  {
    id: 'sim-capable',
    headersDelayMs: 20,
    firstTokenDelayMs: 150,
    interTokenDelayMs: 15,
    outputTokens: 64,
    contextWindow: 200_000,
  },
  { id: 'sim-vision', firstTokenDelayMs: 60, interTokenDelayMs: 5, outputTokens: 32 },
];
