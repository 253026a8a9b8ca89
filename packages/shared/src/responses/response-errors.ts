import { GatewayError } from '../errors/gateway-error.js';
import { isResponseId, type ResponseLookup } from './response-store.js';

/** The id as the message quotes it: only one of the shape the gateway makes, never arbitrary client text. */
function quoted(id: string): string {
  return isResponseId(id) ? `'${id}'` : '(not a response id)';
}

function whyNotStored(lookup: ResponseLookup | undefined): string {
  if (lookup?.found === false && lookup.reason === 'too_large') {
    return ` It was not stored: at ${lookup.bytes} bytes it was larger than responses.store.maxBytesPerResponse (${lookup.limit}).`;
  }
  return '';
}

/**
 * `GET`/`DELETE /v1/responses/{id}` of a response that is not there for this key: absent, expired, or another key's
 * (the same answer, so that a key cannot learn which ids exist). OpenAI's message; its own body has `code: null`.
 */
export const responseNotFound = (id: string, lookup?: ResponseLookup): GatewayError =>
  new GatewayError(`Response with id ${quoted(id)} not found.${whyNotStored(lookup)}`, {
    status: 404,
    code: 'not_found',
    type: 'invalid_request_error',
  });

/**
 * `previous_response_id` naming a response this key cannot continue: absent, expired, another key's, too large to
 * have been stored, or the gateway stores none. OpenAI answers this with a 400 of this code and param.
 */
export const previousResponseNotFound = (id: string, lookup?: ResponseLookup, storeDisabled = false): GatewayError =>
  new GatewayError(
    `Previous response with id ${quoted(id)} not found.${storeDisabled ? ' This gateway does not store responses (responses.store.enabled is false): send the whole conversation as input.' : whyNotStored(lookup)}`,
    { status: 400, code: 'previous_response_not_found', param: 'previous_response_id', type: 'invalid_request_error' },
  );

/** The store (Redis) did not answer a read or delete in time: the client may retry. */
export const storedResponsesUnavailable = (cause: unknown): GatewayError =>
  new GatewayError('Stored responses cannot be read right now; try again shortly.', {
    status: 503,
    code: 'responses_unavailable',
    type: 'server_error',
    retryable: true,
    retryAfterSeconds: 1,
    cause,
  });
