import type { ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { invalidRequest, isRecord, previousResponseNotFound, type ApiKeyRecord } from '@dosrouter/shared';
import type { ResponseObject } from '../../translate/responses-types.js';
import { conversationInput, type Continuation, type ResponseToKeep } from '../../responses/stored-responses.js';

/**
 * Stored responses as the Responses ingress sees them: what `store: true` keeps and `previous_response_id` continues
 * (responses/stored-responses.ts implements it over the store of the gateway's mode).
 */
export interface ResponsesState {
  /** Responses are kept (`responses.store.enabled`). */
  readonly enabled: boolean;
  /** The conversation `previousId` continues for the key; rejects with the 400 `previous_response_not_found`. */
  continuation(keyId: string | undefined, previousId: string): Promise<Continuation>;
  /** Keeps a finished response without the caller waiting. */
  keep(response: ResponseToKeep): void;
}

/**
 * One `POST /v1/responses` request's part in a stored conversation: the key, whether its answer is to be kept
 * (`store`, default true as in OpenAI's API), the conversation it continues, and the conversation before its output.
 * The answer's writer tells it when the Response is complete (`completed`), which keeps it once.
 */
export class ResponsesTurn {
  private kept = false;

  constructor(
    private readonly state: ResponsesState,
    readonly keyId: string | undefined,
    readonly store: boolean,
    /** What `previous_response_id` named; absent for a new conversation. */
    readonly continuation: Continuation | undefined,
    /** The conversation before this turn's output: the continuation's items, then the request's `input`. */
    readonly input: readonly unknown[],
  ) {}

  /** The deployment that served the previous response: routing puts it first while it is a candidate. */
  get pinnedDeployment(): string | undefined {
    return this.continuation?.deployment;
  }

  /**
   * The answer is complete (the Response of `response.completed`, or the whole body), served by `deployment`: kept when
   * the request asked for it, once (StoredResponses.keep: right after its last bytes). Failed answers are never kept.
   */
  completed(response: ResponseObject | Readonly<Record<string, unknown>>, deployment: string): void {
    if (!this.store || this.kept) return;
    this.kept = true;
    this.state.keep({ response: { ...response }, keyId: this.keyId, deployment, input: this.input });
  }
}

const TURN = 'responsesTurn';

/**
 * The request's turn, from the response it is answered on: Express's response is the server's, so the answer's
 * writers (which get the server's response) and planning (which gets Express's) read the same one.
 */
export function responsesTurnOf(response: ServerResponse | Response): ResponsesTurn | undefined {
  const locals = (response as Partial<Pick<Response, 'locals'>>).locals;
  const turn = locals?.[TURN];
  return turn instanceof ResponsesTurn ? turn : undefined;
}

/**
 * Begins a Responses request's turn: with `previous_response_id`, the stored conversation is put before `input` (one
 * read; a missing, expired or other key's response is the 400 `previous_response_not_found`), and the request goes on
 * as if the client had sent the whole conversation. Nothing is done without stored responses but refusing a
 * `previous_response_id`. The body is checked by validation afterwards, the continued `input` included.
 */
export async function beginResponsesTurn(state: ResponsesState | undefined, request: Request, response: Response): Promise<void> {
  const body = request.body as unknown;
  if (!isRecord(body)) return;
  const previous = body.previous_response_id;
  const continues = previous !== undefined && previous !== null;
  if (continues && (typeof previous !== 'string' || previous === '')) {
    throw invalidRequest("Invalid 'previous_response_id': must be a non-empty string.", 'previous_response_id', 'invalid_type');
  }
  if (state === undefined || !state.enabled) {
    if (continues) throw previousResponseNotFound(previous as string, undefined, true);
    return;
  }
  const keyId = (response.locals.apiKey as ApiKeyRecord | undefined)?.id;
  const store = body.store !== false;
  // An `input` of the wrong type is left for validation to name; it is not continued.
  const ownInput = typeof body.input === 'string' || Array.isArray(body.input) ? body.input : undefined;
  if (!continues) {
    response.locals[TURN] = new ResponsesTurn(state, keyId, store, undefined, conversationInput(undefined, ownInput));
    return;
  }
  const continuation = await state.continuation(keyId, previous as string);
  if (ownInput === undefined) return;
  const input = conversationInput(continuation, ownInput);
  request.body = { ...body, input };
  // The client's bytes are no longer the request: the upstream body is made from the continued one.
  response.locals.rawBody = undefined;
  response.locals[TURN] = new ResponsesTurn(state, keyId, store, continuation, input);
}

/** The middleware in front of `POST /v1/responses` that begins each request's turn (beginResponsesTurn). */
export function responsesTurns(state: ResponsesState | undefined) {
  return async function responsesTurn(request: Request, response: Response, next: NextFunction): Promise<void> {
    await beginResponsesTurn(state, request, response);
    next();
  };
}
