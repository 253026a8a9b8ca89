import type { GatewayError } from '@dosrouter/shared';
import { anthropicErrorEvent } from '../translate/anthropic-errors.js';
import { AnthropicSseScanner, MESSAGE_STOP_EVENT, anthropicUsageOf } from './anthropic-sse-scanner.js';
import { SseScanner, usageFromResponse, type EventObserver, type TokenUsage } from './sse-scanner.js';

/** What an attempt reads of a stream: SseScanner for OpenAI's, AnthropicSseScanner for Messages events. */
export type StreamScanner = Pick<
  SseScanner,
  'push' | 'usage' | 'firstTokenSeen' | 'finishSeen' | 'doneSeen' | 'errorSeen' | 'contentFilterSeen' | 'malformedSeen' | 'malformedEvents' | 'complete'
>;

/** How a stream's malformed events are met: by default the first one stops the stream; `skipMalformed` leaves them out. */
export interface ScannerOptions {
  readonly skipMalformed?: boolean;
}

/** How the backend's answer is read and ended: the protocol it speaks. */
export interface AnswerDialect {
  usageOf(answer: unknown): TokenUsage | undefined;
  /** `onEvent` is told each forwarded event's data (the gateway's token estimate when the backend reports no usage). */
  scanner(dropUsageOnlyChunk: boolean, onEvent?: EventObserver, options?: ScannerOptions): StreamScanner;
  /** Ends a complete stream, once its usage record is committed (it was held back). */
  readonly endOfStream: string;
  /** The event a stream that cannot go on ends with. */
  errorEvent(error: GatewayError): string;
}

/** OpenAI's answers: `usage`, chunks and `[DONE]`. */
export const OPENAI_DIALECT: AnswerDialect = {
  usageOf: usageFromResponse,
  scanner: (dropUsageOnlyChunk, onEvent, options) =>
    new SseScanner(dropUsageOnlyChunk, { holdDone: true, ...(onEvent ? { onEvent } : {}), ...(options?.skipMalformed ? { skipMalformed: true } : {}) }),
  endOfStream: 'data: [DONE]\n\n',
  errorEvent: (error) => `data: ${JSON.stringify(error.toBody())}\n\n`,
};

/** Anthropic's Messages answers, passed through from a `kind: anthropic` backend. */
export const ANTHROPIC_DIALECT: AnswerDialect = {
  usageOf: anthropicUsageOf,
  scanner: () => new AnthropicSseScanner(),
  endOfStream: MESSAGE_STOP_EVENT,
  errorEvent: anthropicErrorEvent,
};

