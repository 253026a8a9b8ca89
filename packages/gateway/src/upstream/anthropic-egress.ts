import { PassThrough, type Readable } from 'node:stream';
import type { Deployment } from '@dosrouter/shared';
import type { Message } from '../translate/anthropic-types.js';
import { AnthropicToChatStream } from '../translate/openai-to-anthropic-stream.js';
import { toAnthropicRequest, toChatCompletion } from '../translate/openai-to-anthropic.js';
import type { ProxiedRequest } from '../validation/request-fields.js';
import { translatedStream } from './translated-body.js';
import type { UpstreamResponse } from './upstream-request.js';

/** What the relay uses of a backend's response: its body for one sink, backpressure and abort. */
export type RelayedUpstream = Pick<UpstreamResponse, 'pipe' | 'pause' | 'resume' | 'abort'>;

/** `max_tokens` for a chat completion that sets none, when the deployment sets neither `anthropic.maxTokens` nor `maxOutputTokens`. */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4_096;

const NO_CACHE = { system: false, tools: false } as const;

/** Turns a backend's answer into Chat Completions: a whole answer, or a stream's events as they come. */
export interface AnswerTranslation {
  /** The client's body; undefined when the backend's is not an answer of its protocol. */
  whole(body: Buffer): Buffer | undefined;
  stream(body: Readable): Readable;
}

/**
 * A chat completion for a deployment of a `kind: anthropic` backend: the Messages request to send and the
 * translation of its answer back. Throws a 400 GatewayError when the request says what Messages cannot.
 */
export function chatToAnthropic(
  proxied: ProxiedRequest,
  deployment: Deployment,
  /** End a stream with a usage chunk: the client asked for one, or the gateway did for itself (the relay drops it). */
  includeUsage: boolean,
  /** Seconds since the epoch: every chunk's and the answer's `created`. */
  created: number,
): { body: string; answer: AnswerTranslation } {
  const request = toAnthropicRequest(proxied.body, proxied.stream, {
    model: deployment.upstreamModel,
    defaultMaxTokens: deployment.anthropic?.maxTokens ?? deployment.maxOutputTokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS,
    cache: deployment.anthropic?.cache ?? NO_CACHE,
  });
  return {
    body: JSON.stringify(request),
    answer: {
      whole: (body) => wholeAnswer(body, created),
      stream: (source) => translatedStream(source, new AnthropicToChatStream({ created, includeUsage })),
    },
  };
}

/** A Messages answer as a `chat.completion` body; undefined when it is not one. */
function wholeAnswer(body: Buffer, created: number): Buffer | undefined {
  let message: unknown;
  try {
    message = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof message !== 'object' || message === null || (message as { type?: unknown }).type !== 'message') return undefined;
  return Buffer.from(JSON.stringify(toChatCompletion(message as Message, created)), 'utf8');
}

/**
 * The backend's response as the relay reads it, its body through the answer's stream translation: the backend's bytes
 * go into the translation's Readable (pausing the backend while it is full), its output to the relay's sink.
 */
export function translatedUpstream(upstream: UpstreamResponse, answer: AnswerTranslation): RelayedUpstream {
  const source = new PassThrough();
  const resumeSource = (): void => upstream.resume();
  upstream.pipe({
    data: (chunk) => {
      if (!source.write(chunk)) {
        upstream.pause();
        source.once('drain', resumeSource);
      }
    },
    end: () => source.end(),
    error: (error) => source.destroy(error),
  });
  const translated = answer.stream(source);
  return {
    pipe: (sink) => {
      translated.on('data', (chunk: Buffer | string) => sink.data(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
      translated.once('end', () => sink.end());
      translated.once('error', (error) => sink.error(error));
    },
    pause: () => translated.pause(),
    resume: () => translated.resume(),
    abort: (error) => {
      upstream.abort(error);
      translated.destroy();
    },
  };
}
