import { invalidRequest, type BackendOperation, type Deployment } from '@dosrouter/shared';
import { chatToAnthropic, type AnswerTranslation } from '../upstream/anthropic-egress.js';
import type { Backend, Operation } from '../upstream/backend.js';
import type { ProxiedRequest } from '../validation/request-fields.js';

/** What one attempt sends to one deployment, in the protocol its backend speaks, and how the answer comes back. */
export interface UpstreamRequest {
  readonly operation: BackendOperation;
  readonly body: string | Buffer;
  /** The gateway asked for stream usage on the client's behalf: the relay drops the usage-only chunk. */
  readonly dropUsageOnlyChunk: boolean;
  /** Absent when the backend speaks the client's protocol: its answer is relayed as it comes. */
  readonly answer?: AnswerTranslation;
}

/**
 * The request for `deployment` on `backend`: the client's own bytes with the model rewritten when the backend speaks
 * OpenAI's protocol (`openaiBody`), or a translation when it speaks another (a chat completion to a `kind:
 * anthropic` backend goes to /v1/messages as a Messages request). Throws a 400 GatewayError when the request cannot
 * be said in the backend's protocol: the caller fails over to a deployment that can take it.
 */
export function upstreamRequest(
  operation: Operation,
  proxied: ProxiedRequest,
  backend: Backend,
  deployment: Deployment,
  openaiBody: (deployment: Deployment, askForUsage: boolean) => string | Buffer,
  now: number,
): UpstreamRequest {
  if (backend.kind === 'anthropic') {
    if (operation !== 'chat/completions') {
      throw invalidRequest(`/v1/${operation} is not served by ${deployment.id}: its backend speaks Anthropic's Messages API.`, null, 'unsupported_by_deployment');
    }
    // Messages always reports usage: a stream ends with a usage chunk, which the relay drops unless the client asked.
    const dropUsageOnlyChunk = proxied.stream && !proxied.includeUsage;
    const { body, answer } = chatToAnthropic(proxied, deployment, proxied.includeUsage || dropUsageOnlyChunk, Math.floor(now / 1000));
    return { operation: 'messages', body, dropUsageOnlyChunk, answer };
  }
  const askForUsage = proxied.stream && !proxied.includeUsage && backend.requestStreamUsage;
  return { operation, body: openaiBody(deployment, askForUsage), dropUsageOnlyChunk: askForUsage };
}
