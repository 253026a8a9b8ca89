import type { IncomingMessage } from 'node:http';
import { SimulatorHttpError } from './http-error.js';

/** The error shape every Anthropic endpoint answers with. */
export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
  request_id: string;
}

/** Anthropic's error type for an HTTP status, as its API documents them. */
export function anthropicErrorType(status: number): string {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 402:
      return 'billing_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 504:
      return 'timeout_error';
    case 529:
      return 'overloaded_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

/**
 * Any simulator error in Anthropic's shape: the type follows the status, so the faults and the outage that the chat
 * endpoints answer in OpenAI's shape read the same here as a real Anthropic error of that status.
 */
export function toAnthropicErrorBody(error: SimulatorHttpError, requestId: string): AnthropicErrorBody {
  const message = error.status === 500 ? 'Internal server error' : error.message;
  return { type: 'error', error: { type: anthropicErrorType(error.status), message }, request_id: requestId };
}

/**
 * An `anthropic-version` is a date (`2023-06-01`, or the newer ones SDKs send, such as `2026-10-21`); the simulator
 * speaks one protocol for all of them and refuses only what is not a date.
 */
const ANTHROPIC_VERSION_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Checks the headers Anthropic requires, as it does: the key (only when the simulator has one), in `x-api-key` or as
 * `Authorization: Bearer` (which Anthropic's TypeScript SDK sends since 1.x), with Anthropic's messages, which never
 * echo the key; and `anthropic-version`.
 */
export function authorizeAnthropic(apiKey: string | undefined, request: IncomingMessage): void {
  const sentKey = request.headers['x-api-key'];
  const authorization = request.headers.authorization;
  if (apiKey !== undefined && sentKey !== apiKey && authorization !== `Bearer ${apiKey}`) {
    throw new SimulatorHttpError({
      status: 401,
      message: sentKey === undefined && authorization === undefined ? 'x-api-key header is required' : 'invalid x-api-key',
      type: 'authentication_error',
    });
  }
  const version = request.headers['anthropic-version'];
  if (version === undefined) {
    throw new SimulatorHttpError({ status: 400, message: 'anthropic-version: header is required', type: 'invalid_request_error' });
  }
  if (typeof version !== 'string' || !ANTHROPIC_VERSION_PATTERN.test(version)) {
    throw new SimulatorHttpError({
      status: 400,
      message: `anthropic-version: ${JSON.stringify(version)} is not a valid version`,
      type: 'invalid_request_error',
    });
  }
}
