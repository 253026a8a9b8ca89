import type { Exchange } from '../http/exchange.js';
import type { ParsedBody } from '../http/request-body.js';
import type { SimulatorState } from '../state/simulator-state.js';

export interface RouteContext {
  exchange: Exchange;
  body: ParsedBody;
  state: SimulatorState;
}

export type RouteHandler = (context: RouteContext) => Promise<void>;
