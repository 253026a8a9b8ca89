import type { Deployment } from '../catalog/catalog.js';

/** A deployment for routing tests: weight 1, free, streaming only, 128k context, unless `overrides` say otherwise. */
export function testDeployment(id: string, overrides: Partial<Deployment> = {}): Deployment {
  return {
    id,
    backend: id,
    model: 'm',
    upstreamModel: 'm',
    weight: 1,
    pricing: { inputPerMTok: 0, outputPerMTok: 0 },
    contextWindow: 128_000,
    maxOutputTokens: 4_096,
    capabilities: new Set(['streaming']),
    limits: {},
    breaker: { errorThresholdPercentage: 50, volumeThreshold: 10, windowMs: 10_000, cooldownMs: 30_000 },
    ...overrides,
  };
}
