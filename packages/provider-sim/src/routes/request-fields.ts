import type { ResolvedModel } from '../config/parse-simulator-options.js';
import { invalidRequestError, modelNotFoundError } from '../http/http-error.js';
import { isRecord } from '../json-value.js';

/** Hand-written rather than zod: this runs on every request and must stay cheap at benchmark rates. */
export function requireModel(body: Record<string, unknown>, models: ReadonlyMap<string, ResolvedModel>): ResolvedModel {
  const name = body['model'];
  if (typeof name !== 'string' || name.length === 0) {
    throw invalidRequestError('you must provide a model parameter', 'model');
  }
  const model = models.get(name);
  if (model === undefined) {
    throw modelNotFoundError(name);
  }
  return model;
}

export function optionalInteger(
  body: Record<string, unknown>,
  name: string,
  minimum: number,
  maximum: number,
): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum || value > maximum) {
    throw invalidRequestError(
      `Invalid '${name}': expected an integer between ${minimum} and ${maximum}, got ${JSON.stringify(value)}.`,
      name,
      'invalid_value',
    );
  }
  return value;
}

export function optionalBoolean(body: Record<string, unknown>, name: string): boolean | undefined {
  const value = body[name];
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'boolean') {
    throw invalidRequestError(`Invalid '${name}': expected a boolean, got ${JSON.stringify(value)}.`, name, 'invalid_type');
  }
  return value;
}

/** `stream_options.include_usage`; OpenAI accepts it only with stream: true, the simulator just ignores it otherwise. */
export function includeUsageRequested(body: Record<string, unknown>): boolean {
  const streamOptions = body['stream_options'];
  return isRecord(streamOptions) && streamOptions['include_usage'] === true;
}

/** The completion length: the model's outputTokens unless the request caps it lower (then finish_reason is "length"). */
export function completionLength(model: ResolvedModel, maximumTokens: number | undefined): { tokens: number; capped: boolean } {
  if (maximumTokens !== undefined && maximumTokens < model.outputTokens) {
    return { tokens: maximumTokens, capped: true };
  }
  return { tokens: model.outputTokens, capped: false };
}
