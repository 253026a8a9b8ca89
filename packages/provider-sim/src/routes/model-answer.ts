import type { ResolvedModel } from '../config/parse-simulator-options.js';
import { errorForFault, type FaultRequestFacts } from '../faults/fault-errors.js';
import type { ActiveFault } from '../faults/fault-schedule.js';
import type { RouteContext } from './route-context.js';

export type AnswerStart = { proceed: true; fault: ActiveFault | undefined } | { proceed: false };

/**
 * The steps every model endpoint shares once the request is valid: pick the fault, wait the model's header delay,
 * then carry out the faults that replace the answer (errors, reset, hang). What is left for the endpoint is the
 * fault, if any, that shapes the answer itself.
 */
export async function startAnswer(context: RouteContext, model: ResolvedModel, facts: FaultRequestFacts): Promise<AnswerStart> {
  const { exchange, state } = context;
  const fault = state.faults.next(model);
  if (fault !== undefined) {
    state.stats.countFault(fault.kind);
  }
  await exchange.wait(model.headersDelayMs);
  if (fault === undefined) {
    return { proceed: true, fault: undefined };
  }
  const error = errorForFault(fault, model, facts);
  if (error !== undefined) {
    throw error;
  }
  if (fault.kind === 'reset') {
    exchange.resetConnection();
    return { proceed: false };
  }
  if (fault.kind === 'hang') {
    // Never answer: the exchange stays open until the client gives up or the simulator closes its sockets.
    return { proceed: false };
  }
  return { proceed: true, fault };
}

/** How long a non-streaming answer takes: what the same stream would take to its last token. */
export function generationDelayMs(model: ResolvedModel, tokens: number): number {
  return model.firstTokenDelayMs + model.interTokenDelayMs * tokens;
}
