import { invalidRequest } from '@dosrouter/shared';
import type { MessageCreateParams } from '../translate/anthropic-types.js';
import type { ResponsesRequest } from '../translate/responses-types.js';

/** A request body after validation: the fields the gateway itself acts on. The rest passes through untouched. */
export interface ProxiedRequest {
  readonly body: Record<string, unknown>;
  readonly model: string;
  readonly stream: boolean;
  /** The client asked for stream usage itself (`stream_options.include_usage`). */
  readonly includeUsage: boolean;
  /**
   * A Messages request (`POST /v1/messages`) as the client sent it; `body` is then its Chat Completions translation,
   * which routing, limits and usage estimates read.
   */
  readonly messages?: MessageCreateParams;
  /** A Responses request (`POST /v1/responses`) as the client sent it; `body` is then its Chat Completions translation. */
  readonly responses?: ResponsesRequest;
  /**
   * The session to stick to when the client sent no `x-session-id`: a Messages request's `metadata.user_id` (Claude
   * Code puts its session id there), so that a conversation stays on one deployment and its prompt cache.
   */
  readonly sessionId?: string;
}

export function requireModel(body: Record<string, unknown>): string {
  const model = body.model;
  if (model === undefined || model === null) throw invalidRequest('You must provide a model parameter.', 'model', 'missing_required_parameter');
  if (typeof model !== 'string' || model.trim() === '') throw invalidRequest('`model` must be a non-empty string.', 'model', 'invalid_type');
  if (model.length > 256) throw invalidRequest('`model` is longer than 256 characters.', 'model', 'invalid_value');
  return model;
}

export function readStreamFlags(body: Record<string, unknown>): { stream: boolean; includeUsage: boolean } {
  const stream = body.stream;
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') {
    throw invalidRequest('`stream` must be a boolean.', 'stream', 'invalid_type');
  }
  const options = body.stream_options;
  if (options !== undefined && options !== null) {
    if (typeof options !== 'object' || Array.isArray(options)) {
      throw invalidRequest('`stream_options` must be an object.', 'stream_options', 'invalid_type');
    }
    if (stream !== true) throw invalidRequest('`stream_options` is only allowed when `stream` is true.', 'stream_options', 'invalid_value');
  }
  const includeUsage = (options as { include_usage?: unknown } | null | undefined)?.include_usage === true;
  return { stream: stream === true, includeUsage };
}

export { isRecord as isPlainObject } from '@dosrouter/shared';
