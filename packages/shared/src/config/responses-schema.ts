import { z } from 'zod';

const MIB = 1024 * 1024;

/**
 * The Responses API's stored responses (`store: true`, `previous_response_id`, `GET`/`DELETE /v1/responses/{id}`):
 * kept in Redis in cluster mode, in this process's memory in embedded mode (docs/configuration.md, decision 0025).
 */
export const responsesSchema = z
  .strictObject({
    store: z
      .strictObject({
        /**
         * Keep responses the client asked to store (`store: true`, the default of OpenAI's API). Off: nothing is
         * stored, `previous_response_id` is refused, and `GET /v1/responses/{id}` finds nothing.
         */
        enabled: z.boolean().default(true),
        /**
         * How long a stored response can be read or continued (seconds). Default: one day. Each stored response holds
         * its whole conversation, so memory grows with turns × length; OpenAI keeps its own for 30 days.
         */
        ttlSeconds: z.number().int().min(1).max(365 * 86_400).default(86_400),
        /**
         * The largest stored response (its JSON: the conversation before it and its output), in bytes. A larger one
         * is not stored: a continuation of it gets a 400 that says why. Default: 2 MiB.
         */
        maxBytesPerResponse: z.number().int().min(1_024).max(64 * MIB).default(2 * MIB),
        /** Embedded mode only: bounds of the in-memory store; past either, the oldest responses are dropped first. */
        embedded: z
          .strictObject({
            /** Stored responses kept at most. */
            maxEntries: z.number().int().min(1).default(10_000),
            /** Bytes of stored responses kept at most. Default: 256 MiB. */
            maxBytes: z.number().int().min(1_024).default(256 * MIB),
          })
          .prefault({}),
      })
      .superRefine((store, context) => {
        if (store.maxBytesPerResponse > store.embedded.maxBytes) {
          context.addIssue({ code: 'custom', message: `must be at most embedded.maxBytes (${store.embedded.maxBytes})`, path: ['maxBytesPerResponse'] });
        }
      })
      .prefault({}),
  })
  .prefault({});

export type ResponsesConfig = z.output<typeof responsesSchema>;
export type ResponseStoreConfig = ResponsesConfig['store'];
