import { z } from 'zod';
import { describeIssues } from '../config/describe-issues.js';
import type { Exchange } from '../http/exchange.js';
import { SimulatorHttpError } from '../http/http-error.js';
import type { Outage } from '../types.js';

export const OUTAGE_MODES = ['error', 'reset', 'hang'] as const;

/** What an 'error' outage answers when it names no status: what a load balancer in front of a dead backend sends. */
export const DEFAULT_OUTAGE_STATUS = 503;

export const outageSchema = z
  .strictObject({
    mode: z.enum(OUTAGE_MODES),
    status: z.number().int().min(400).max(599).optional(),
    retryAfterSeconds: z.number().int().min(0).optional(),
  })
  .superRefine((outage, context) => {
    // A reset or hung connection has no status line or headers to carry these: rejecting them catches a wrong mode.
    if (outage.mode === 'error') {
      return;
    }
    for (const field of ['status', 'retryAfterSeconds'] as const) {
      if (outage[field] !== undefined) {
        context.addIssue({ code: 'custom', path: [field], message: `only applies to mode "error", not "${outage.mode}"` });
      }
    }
  });

/** Validates an outage from code or from the control API; throws naming the bad field. */
export function parseOutage(input: unknown): Outage {
  const parsed = outageSchema.safeParse(input);
  if (!parsed.success) {
    throw new Error(`Invalid outage: ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}

function outageError(outage: Outage): SimulatorHttpError {
  const status = outage.status ?? DEFAULT_OUTAGE_STATUS;
  return new SimulatorHttpError({
    status,
    message: 'The simulated backend is down (outage)',
    type: status === 429 ? 'rate_limit_error' : 'server_error',
    code: 'backend_outage',
    headers: outage.retryAfterSeconds === undefined ? {} : { 'retry-after': String(outage.retryAfterSeconds) },
  });
}

/**
 * Answers one /v1 request the way a down backend would. It reuses what the reset and hang faults do: a hung exchange
 * is simply never answered, and close() still ends it because it drops every connection, busy or idle.
 */
export function applyOutage(exchange: Exchange, outage: Outage): void {
  switch (outage.mode) {
    case 'error':
      throw outageError(outage);
    case 'reset':
      exchange.resetConnection();
      return;
    case 'hang':
      return;
  }
}
