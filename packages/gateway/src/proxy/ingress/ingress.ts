import type { ServerResponse } from 'node:http';
import type { BackendOperation, Deployment } from '@dosrouter/shared';
import type { AnswerDialect } from '../../upstream/answer-dialect.js';
import type { AnswerTranslation } from '../../upstream/anthropic-egress.js';
import type { AnswerWriter } from '../../upstream/attempt.js';
import type { Backend } from '../../upstream/backend.js';
import type { ProxiedRequest } from '../../validation/request-fields.js';

/**
 * One attempt as the request's ingress protocol and the deployment's backend kind make it: what the backend is asked
 * for (operation, body, extra headers), how its answer is read (dialect), and what the answer goes through on its way
 * to the client (`writer`: the client's response itself when both speak the same protocol, a translator otherwise).
 */
export interface AttemptShape {
  readonly operation: BackendOperation;
  readonly body: string | Buffer;
  /** The gateway asked for stream usage on the client's behalf: drop the usage-only chunk. */
  readonly dropUsageOnlyChunk: boolean;
  readonly dialect: AnswerDialect;
  /**
   * Turns the backend's answer into the dialect's protocol before it is read (a chat completion to a `kind:
   * anthropic` backend: Messages back to Chat Completions); absent, the answer is read as it comes.
   */
  readonly answer?: AnswerTranslation;
  readonly headers?: Readonly<Record<string, string>>;
  writer(response: ServerResponse): AnswerWriter;
}

/** A request's shape for each deployment it may be sent to. */
export type AttemptShaper = (backend: Backend, deployment: Deployment) => AttemptShape;

/**
 * An ingress protocol's adapter: given the validated request, the client's bytes (when they are valid UTF-8 JSON)
 * and its headers, the shaper of its attempts. Called once per request; the shaper once per attempt, before the
 * attempt's layers, so that nothing it throws counts against a circuit.
 */
export type Ingress = ((proxied: ProxiedRequest, raw: Buffer | undefined, headers: Readonly<Record<string, string | string[] | undefined>>) => AttemptShaper) & {
  /** The client protocol (`openai.chat/completions`, `anthropic.messages`): part of the response cache's key. */
  readonly protocol?: string;
  /** Client headers some backend gets as they came (`anthropic-beta`): they may change the answer, so the cache's key has them. */
  readonly passedHeaders?: readonly string[];
  /**
   * For an ingress whose writers translate an answer on its way to the client: a writer that does so for `proxied`
   * with no attempt behind it. The response cache keeps the answer as the attempt wrote it and replays a hit through
   * this; an ingress without it has its translated answers served but never stored.
   */
  readonly translatedWriter?: (response: ServerResponse, proxied: ProxiedRequest) => AnswerWriter;
};
