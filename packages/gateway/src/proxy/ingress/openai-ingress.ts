import { isUtf8 } from 'node:buffer';
import { GatewayError, type Deployment } from '@dosrouter/shared';
import { OPENAI_DIALECT } from '../../upstream/answer-dialect.js';
import { chatToAnthropic } from '../../upstream/anthropic-egress.js';
import { chatToResponsesApi } from '../../upstream/responses-egress.js';
import type { Operation } from '../../upstream/backend.js';
import { chatToGemini } from '../../upstream/gemini-egress.js';
import { rewriteBody, topLevelMembers, type TopLevelMembers } from '../../upstream/raw-body.js';
import type { Ingress } from './ingress.js';

/**
 * OpenAI's API in (chat completions, completions, embeddings), passed through to an OpenAI-compatible backend: the
 * client's body with the deployment's model id and, when the gateway wants stream usage, `stream_options`. A chat
 * completion to a `kind: anthropic` backend goes to /v1/messages translated (translate/openai-to-anthropic.ts), one to
 * a `kind: gemini` backend to generateContent (translate/openai-to-gemini.ts), one to an `api: responses` backend to
 * /responses (translate/chat-to-responses.ts), its answer translated back before it is read; a request the backend's
 * protocol cannot express throws a 400 (the caller fails over).
 */
export function openAiIngress(operation: Operation): Ingress {
  return (proxied, raw) => {
    const bodyFor = upstreamBodies(proxied.body, raw);
    return (backend, deployment) => {
      if (backend.kind === 'anthropic' && operation === 'chat/completions') {
        // Messages always reports usage: a stream ends with a usage chunk, which the relay drops unless the client asked.
        const dropUsageOnlyChunk = proxied.stream && !proxied.includeUsage;
        const { body, answer } = chatToAnthropic(proxied, deployment, proxied.includeUsage || dropUsageOnlyChunk, Math.floor(Date.now() / 1000));
        return { operation: 'messages', body, dropUsageOnlyChunk, dialect: OPENAI_DIALECT, answer, writer: (response) => response };
      }
      if (backend.kind === 'gemini' && operation === 'chat/completions') {
        // Gemini always reports usage, in its last event: the usage chunk is made, and dropped unless the client asked.
        const dropUsageOnlyChunk = proxied.stream && !proxied.includeUsage;
        const translated = chatToGemini(proxied, deployment, proxied.includeUsage || dropUsageOnlyChunk, Math.floor(Date.now() / 1000));
        return { ...translated, dropUsageOnlyChunk, dialect: OPENAI_DIALECT, writer: (response) => response };
      }
      if (backend.kind === 'openai' && backend.api === 'responses') {
        if (operation !== 'chat/completions') {
          throw new GatewayError(`The backend ${backend.name} speaks the Responses API, which cannot serve ${operation} requests.`, { status: 400, code: 'unsupported_backend_kind' });
        }
        // A Response always reports usage: a stream ends with a usage chunk, which the relay drops unless the client asked.
        const dropUsageOnlyChunk = proxied.stream && !proxied.includeUsage;
        const { body, answer } = chatToResponsesApi(proxied.body, proxied.stream, deployment, true, Math.floor(Date.now() / 1000));
        return { operation: 'responses', body, dropUsageOnlyChunk, dialect: OPENAI_DIALECT, answer, writer: (response) => response };
      }
      if (backend.kind !== 'openai') {
        throw new GatewayError(`The backend ${backend.name} speaks ${backend.kind}, which cannot serve ${operation} requests.`, {
          status: 400,
          code: 'unsupported_backend_kind',
        });
      }
      const askForUsage = proxied.stream && !proxied.includeUsage && backend.requestStreamUsage;
      return { operation, body: bodyFor(deployment, askForUsage), dropUsageOnlyChunk: askForUsage, dialect: OPENAI_DIALECT, writer: (response) => response };
    };
  };
}

/**
 * The bodies sent upstream for one request: the client's, with the backend's model id and, if asked for, stream
 * usage. Made from the client's own bytes (`rewriteBody`: only the `model` and `stream_options` values change), so
 * that a large body is not serialised again on the event loop for every attempt; re-serialised from the parsed body
 * only when the bytes are not valid UTF-8 (JSON.parse read them with replacement characters).
 */
export function upstreamBodies(body: Record<string, unknown>, raw: Buffer | undefined): (deployment: Deployment, askForUsage: boolean) => string | Buffer {
  const members = raw !== undefined && isUtf8(raw) ? membersOf(raw) : undefined;
  return (deployment, askForUsage) => {
    const streamOptions = askForUsage ? { ...(body.stream_options as object | undefined), include_usage: true } : undefined;
    if (raw && members && members.model.length > 0) return rewriteBody(raw, members, deployment.upstreamModel, streamOptions);
    return JSON.stringify({ ...body, model: deployment.upstreamModel, ...(streamOptions ? { stream_options: streamOptions } : {}) });
  };
}

/** The members to rewrite; undefined (re-serialise instead) if the scan disagrees with what JSON.parse accepted. */
function membersOf(raw: Buffer): TopLevelMembers | undefined {
  try {
    return topLevelMembers(raw);
  } catch {
    return undefined;
  }
}
