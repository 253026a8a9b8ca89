import type { NextFunction, Request, Response } from 'express';
import { invalidRequest, type ApiKeyRecord } from '@dosrouter/shared';

/**
 * Stored responses: what `store: true` keeps and `previous_response_id` continues. The one seam between the Responses
 * ingress and a response store; without one (the gateway keeps no responses) a request that names a previous
 * response is refused with a 400, never answered as if it started a new conversation.
 */
export interface ResponsesState {
  /**
   * The request body continuing `previousResponseId` for the key that made it (undefined in open mode): its earlier
   * input and output items put before `input`, as OpenAI does. Rejects with a 404 GatewayError when no such response
   * is kept for that key.
   */
  continueFrom(body: Record<string, unknown>, previousResponseId: string, apiKeyId: string | undefined): Promise<Record<string, unknown>>;
}

/**
 * The middleware in front of `POST /v1/responses` that resolves `previous_response_id` through `state` before the
 * request is validated; a request without one passes straight on.
 */
export function previousResponses(state: ResponsesState | undefined) {
  return async function previousResponse(request: Request, response: Response, next: NextFunction): Promise<void> {
    const body = request.body as Record<string, unknown> | undefined;
    const previous = body?.previous_response_id;
    if (previous === undefined || previous === null || body === undefined) {
      next();
      return;
    }
    if (typeof previous !== 'string' || previous === '') throw invalidRequest("Invalid 'previous_response_id': must be a non-empty string.", 'previous_response_id', 'invalid_type');
    if (state === undefined) {
      throw invalidRequest(
        "Invalid 'previous_response_id': this gateway keeps no responses, so none can be continued. Send the conversation's items in `input` instead.",
        'previous_response_id',
        'unsupported_parameter',
      );
    }
    const apiKey = response.locals.apiKey as ApiKeyRecord | undefined;
    request.body = await state.continueFrom(body, previous, apiKey?.id);
    next();
  };
}
