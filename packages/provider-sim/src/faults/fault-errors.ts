import type { ResolvedModel } from '../config/parse-simulator-options.js';
import { SimulatorHttpError } from '../http/http-error.js';
import type { ActiveFault } from './fault-schedule.js';

/** What the endpoint knows about the request, so an injected context_length error reads like a real one. */
export interface FaultRequestFacts {
  promptTokens: number;
  /** The field OpenAI names in `param` for prompt problems: "messages", "prompt" or "input". */
  promptParam: string;
  /** Whether the answer is streamed: a stream_error fault then errors mid-stream instead of answering 529. */
  stream: boolean;
}

function retryHeaders(fault: ActiveFault): Record<string, string> {
  const headers: Record<string, string> = { 'retry-after': String(fault.retryAfterSeconds) };
  if (fault.retryAfterMs !== undefined) {
    headers['retry-after-ms'] = String(fault.retryAfterMs);
  }
  return headers;
}

/** The context_length_exceeded error OpenAI returns, used both for real overflows and for injected ones. */
export function contextLengthError(
  model: ResolvedModel,
  promptTokens: number,
  completionTokens: number,
  promptParam: string,
): SimulatorHttpError {
  return new SimulatorHttpError({
    status: 400,
    message:
      `This model's maximum context length is ${model.contextWindow} tokens. However, you requested ` +
      `${promptTokens + completionTokens} tokens (${promptTokens} in the ${promptParam}, ${completionTokens} in the ` +
      `completion). Please reduce the length of the ${promptParam} or completion.`,
    type: 'invalid_request_error',
    param: promptParam,
    code: 'context_length_exceeded',
  });
}

function overloadedError(): SimulatorHttpError {
  return new SimulatorHttpError({ status: 529, message: 'Overloaded', type: 'overloaded_error' });
}

/** The HTTP error a fault answers with, or undefined for faults that misbehave in other ways. */
export function errorForFault(fault: ActiveFault, model: ResolvedModel, facts: FaultRequestFacts): SimulatorHttpError | undefined {
  switch (fault.kind) {
    case 'rate_limit':
      return new SimulatorHttpError({
        status: 429,
        message:
          `Rate limit reached for ${model.id} in organization org-simulator on requests per min (RPM): ` +
          `Limit 60, Used 60, Requested 1. Please try again in ${fault.retryAfterSeconds}s.`,
        type: 'requests',
        code: 'rate_limit_exceeded',
        headers: {
          ...retryHeaders(fault),
          'x-ratelimit-limit-requests': '60',
          'x-ratelimit-remaining-requests': '0',
          'x-ratelimit-reset-requests': `${fault.retryAfterSeconds}s`,
        },
      });
    case 'server_error':
      return new SimulatorHttpError({
        status: 500,
        message: 'The server had an error while processing your request. Sorry about that!',
        type: 'server_error',
      });
    case 'unavailable':
      return new SimulatorHttpError({
        status: 503,
        message: 'The server is temporarily unable to handle the request. Please try again later.',
        type: 'server_error',
        code: 'service_unavailable',
        headers: retryHeaders(fault),
      });
    case 'overloaded':
      return overloadedError();
    case 'stream_error':
      // The same failure as a stream's error event, said before any answer went out.
      return facts.stream ? undefined : overloadedError();
    case 'bad_request':
      return new SimulatorHttpError({
        status: 400,
        message: 'The simulator rejected this request as invalid (injected bad_request fault).',
        type: 'invalid_request_error',
      });
    case 'context_length':
      return contextLengthError(model, Math.max(facts.promptTokens, model.contextWindow + 1), 0, facts.promptParam);
    case 'content_policy':
      return new SimulatorHttpError({
        status: 400,
        message:
          'Your request was rejected as a result of our safety system. Your prompt may contain text that is not ' +
          'allowed by our content policy.',
        type: 'invalid_request_error',
        param: facts.promptParam,
        code: 'content_policy_violation',
      });
    case 'reset':
    case 'hang':
    case 'slow_first_token':
    case 'stream_cut':
    case 'stream_stall':
    case 'malformed_chunk':
    case 'empty':
      return undefined;
  }
}
