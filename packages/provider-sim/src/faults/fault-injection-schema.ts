import { z } from 'zod';
import { describeIssues } from '../config/describe-issues.js';
import type { FaultInjection } from '../types.js';
import { FAULT_KINDS } from './fault-kinds.js';

export const faultInjectionSchema = z.strictObject({
  kind: z.enum(FAULT_KINDS),
  count: z.number().int().min(1).optional(),
  model: z.string().min(1).optional(),
  retryAfterSeconds: z.number().int().min(0).optional(),
  retryAfterMs: z.number().int().min(0).optional(),
  delayMs: z.number().int().min(0).optional(),
  afterTokens: z.number().int().min(1).optional(),
});

/** Validates a fault from code or from the control API; throws naming the bad field or the unknown model. */
export function parseFaultInjection(input: unknown, servedModels: ReadonlySet<string>): FaultInjection {
  const parsed = faultInjectionSchema.safeParse(input);
  if (!parsed.success) {
    throw new Error(`Invalid fault: ${describeIssues(parsed.error)}`);
  }
  const injection: FaultInjection = parsed.data;
  if (injection.model !== undefined && !servedModels.has(injection.model)) {
    throw new Error(`Invalid fault: model: the simulator does not serve "${injection.model}"`);
  }
  return injection;
}
