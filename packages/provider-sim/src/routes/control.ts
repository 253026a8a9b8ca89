import type { ServerResponse } from 'node:http';
import { invalidUrlError, SimulatorHttpError } from '../http/http-error.js';
import { sendJsonResponse, sendNoContent } from '../http/json-response.js';
import type { ParsedBody } from '../http/request-body.js';
import { parseFaultInjection } from '../faults/fault-injection-schema.js';
import { errorMessage, isRecord } from '../json-value.js';
import { readStats, resetState, setOutage } from '../state/simulator-controls.js';
import type { SimulatorState } from '../state/simulator-state.js';
import type { FaultInjection } from '../types.js';

export const CONTROL_PREFIX = '/_sim/';

/**
 * The control API for out-of-process users (the benchmark, a demo): the same operations as the Simulator object.
 * It needs no API key, so only bind the simulator where its clients are trusted.
 */
export function handleControl(
  state: SimulatorState,
  method: string,
  path: string,
  body: ParsedBody,
  response: ServerResponse,
): void {
  const route = `${method} ${path}`;
  switch (route) {
    case 'POST /_sim/faults':
      queueFaults(state, body);
      sendJsonResponse(response, 200, { queued: state.faults.pending() });
      return;
    case 'GET /_sim/faults':
      sendJsonResponse(response, 200, { queued: state.faults.pending() });
      return;
    case 'DELETE /_sim/faults':
      state.faults.clear();
      sendNoContent(response);
      return;
    case 'PUT /_sim/outage':
      startOutage(state, body);
      sendJsonResponse(response, 200, { outage: state.outage ?? null });
      return;
    case 'GET /_sim/outage':
      sendJsonResponse(response, 200, { outage: state.outage ?? null });
      return;
    case 'DELETE /_sim/outage':
      setOutage(state, undefined);
      sendNoContent(response);
      return;
    case 'GET /_sim/stats':
      sendJsonResponse(response, 200, readStats(state));
      return;
    case 'GET /_sim/usage':
      sendJsonResponse(response, 200, { requests: state.usage.snapshotByRequestId() });
      return;
    case 'GET /_sim/requests':
      sendJsonResponse(response, 200, state.recorder.list());
      return;
    case 'POST /_sim/reset':
      resetState(state);
      sendNoContent(response);
      return;
    default:
      throw invalidUrlError(method, path);
  }
}

/** Accepts one fault or an array of them; validates them all before queueing any. */
function queueFaults(state: SimulatorState, body: ParsedBody): void {
  if (body.kind !== 'json') {
    throw invalidControlBody('expected a JSON fault object or an array of them');
  }
  const servedModels = new Set(state.options.models.keys());
  const inputs = Array.isArray(body.value) ? body.value : [body.value];
  let faults: FaultInjection[];
  try {
    faults = inputs.map((input) => parseFaultInjection(input, servedModels));
  } catch (error) {
    throw invalidControlBody(errorMessage(error));
  }
  for (const fault of faults) {
    state.faults.inject(fault);
  }
}

/** Takes the backend down with the outage in the body; a missing or invalid one leaves the current state as it was. */
function startOutage(state: SimulatorState, body: ParsedBody): void {
  if (body.kind !== 'json' || !isRecord(body.value)) {
    throw invalidControlBody('expected a JSON outage object, e.g. {"mode":"error","status":503}; DELETE ends an outage');
  }
  try {
    setOutage(state, body.value);
  } catch (error) {
    throw invalidControlBody(errorMessage(error));
  }
}

function invalidControlBody(message: string): SimulatorHttpError {
  return new SimulatorHttpError({ status: 400, message, type: 'invalid_request_error' });
}
