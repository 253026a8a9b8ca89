import { z } from 'zod';
import { QUEUE_PRIORITIES } from './api-key.js';

const nonNegative = z.number().finite().nonnegative();

/** The body of `POST /admin/keys` and `PATCH /admin/keys/{id}`, as the admin API accepts it. */
const fields = {
  name: z.string().trim().min(1).max(200),
  owner: z.record(z.string().max(100), z.string().max(1_000)),
  allowedModels: z.array(z.string().min(1).max(256)).max(1_000).nullable(),
  limits: z
    .object({
      requestsPerMinute: z.number().int().positive().optional(),
      tokensPerMinute: z.number().int().positive().optional(),
      concurrency: z.number().int().positive().optional(),
    })
    .strict(),
  budget: z.object({ dailyUsd: nonNegative.optional(), monthlyUsd: nonNegative.optional(), softDailyUsd: nonNegative.optional() }).strict(),
  /** Saturation queues: fair-share weight (0.01 to 1000), priority class, whether the priority header is honoured. */
  queue: z
    .object({
      weight: z.number().finite().min(0.01).max(1_000).optional(),
      priority: z.enum(QUEUE_PRIORITIES).optional(),
      priorityHeader: z.boolean().optional(),
    })
    .strict(),
  /** The response cache for this key: on, off, or null to let the config decide. */
  cache: z.boolean().nullable(),
  /** Epoch milliseconds, or null to clear. */
  expiresAt: z.number().int().positive().nullable(),
};

export const createKeySchema = z.object({ ...fields, owner: fields.owner.optional(), allowedModels: fields.allowedModels.optional(), limits: fields.limits.optional(), budget: fields.budget.optional(), queue: fields.queue.optional(), cache: fields.cache.optional(), expiresAt: fields.expiresAt.optional() }).strict();
export const updateKeySchema = z.object(fields).partial().strict();
/** `POST /admin/keys/{id}/rotate`: how long the old secret keeps working. */
export const rotateKeySchema = z.object({ graceSeconds: z.number().int().nonnegative().max(30 * 24 * 3600).default(0) }).strict();
