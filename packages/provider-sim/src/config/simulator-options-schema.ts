import { z } from 'zod';
import { JSON_STYLES } from '../delivery/json-style.js';
import { FAULT_KINDS } from '../faults/fault-kinds.js';

const delayMs = z.number().int().min(0);
const probability = z.number().min(0).max(1);

const faultRatesSchema = z
  .partialRecord(z.enum(FAULT_KINDS), probability)
  .refine((rates) => Object.values(rates).reduce<number>((sum, rate) => sum + (rate ?? 0), 0) <= 1, {
    message: 'fault rates must add up to at most 1',
  });

export const simulatedModelSchema = z.strictObject({
  id: z.string().min(1),
  headersDelayMs: delayMs.optional(),
  firstTokenDelayMs: delayMs.optional(),
  interTokenDelayMs: delayMs.optional(),
  outputTokens: z.number().int().min(1).max(100_000).optional(),
  contextWindow: z.number().int().min(1).optional(),
  faultRates: faultRatesSchema.optional(),
  retryAfterSeconds: z.number().int().min(0).optional(),
  reportsUsage: z.boolean().optional(),
  jsonStyle: z.enum(JSON_STYLES).optional(),
  rejectsPrefill: z.boolean().optional(),
  promptCacheMinimumTokens: z.number().int().min(0).optional(),
});

export const simulatorOptionsSchema = z
  .strictObject({
    models: z.array(simulatedModelSchema).min(1),
    apiKey: z.string().min(1).optional(),
    seed: z.number().int().optional(),
    host: z.string().min(1).optional(),
    port: z.number().int().min(0).max(65_535).optional(),
    recordRequests: z.number().int().min(0).optional(),
    http2: z.boolean().optional(),
    tls: z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
  })
  .superRefine((options, context) => {
    const seen = new Set<string>();
    options.models.forEach((model, index) => {
      if (seen.has(model.id)) {
        context.addIssue({ code: 'custom', path: ['models', index, 'id'], message: `duplicate model id "${model.id}"` });
      }
      seen.add(model.id);
    });
  });

export type SimulatorOptionsInput = z.infer<typeof simulatorOptionsSchema>;
