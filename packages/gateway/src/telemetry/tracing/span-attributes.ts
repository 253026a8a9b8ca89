import type { Attributes } from '@opentelemetry/api';
import type { Deployment, RoutePlan } from '@dosrouter/shared';
import type { Backend, Operation } from '../../upstream/backend.js';
import type { ProxiedRequest } from '../../validation/request-fields.js';

/**
 * The OpenTelemetry GenAI semantic conventions' attribute names (semantic-conventions 1.45.0's incubating set, as of
 * December 2026). Written out here rather than imported from the package's `incubating` entry point: the conventions
 * are experimental, and their authors ask users to copy them so that a renamed attribute cannot break a build.
 */
export const GEN_AI = {
  operation: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  requestMaxTokens: 'gen_ai.request.max_tokens',
  requestTemperature: 'gen_ai.request.temperature',
  requestTopP: 'gen_ai.request.top_p',
  requestStream: 'gen_ai.request.stream',
  requestChoiceCount: 'gen_ai.request.choice.count',
  responseModel: 'gen_ai.response.model',
  finishReasons: 'gen_ai.response.finish_reasons',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  timeToFirstChunk: 'gen_ai.response.time_to_first_chunk',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
} as const;

/** `gen_ai.operation.name` of an operation the gateway forwards. */
export function operationNameOf(operation: Operation | undefined): string {
  return operation === 'embeddings' ? 'embeddings' : operation === 'completions' ? 'text_completion' : 'chat';
}

/** Well-known `gen_ai.provider.name` values of OpenAI-compatible APIs, by host; other hosts get the backend's name. */
const PROVIDERS_BY_HOST: ReadonlyMap<string, string> = new Map([
  ['api.openai.com', 'openai'],
  ['api.groq.com', 'groq'],
  ['api.deepseek.com', 'deepseek'],
  ['api.mistral.ai', 'mistral_ai'],
  ['api.x.ai', 'x_ai'],
  ['api.perplexity.ai', 'perplexity'],
  ['api.cohere.com', 'cohere'],
  // Gemini's OpenAI-compatible endpoint is on the same host as its own API.
  ['generativelanguage.googleapis.com', 'gcp.gemini'],
]);

export function providerNameOf(backend: Pick<Backend, 'kind' | 'baseUrl' | 'name'>): string {
  if (backend.kind === 'anthropic') return 'anthropic';
  if (backend.kind === 'gemini') return 'gcp.gemini';
  const host = URL.canParse(backend.baseUrl) ? new URL(backend.baseUrl).hostname : '';
  return PROVIDERS_BY_HOST.get(host) ?? (host.endsWith('.openai.azure.com') ? 'azure.ai.openai' : backend.name);
}

/** What the client asked for (the request span); its messages only when content capture is on. */
export function requestAttributes(operation: Operation, proxied: ProxiedRequest, captureContent: boolean): Attributes {
  const { body } = proxied;
  const attributes: Attributes = {
    [GEN_AI.operation]: operationNameOf(operation),
    [GEN_AI.requestModel]: proxied.model,
    [GEN_AI.requestStream]: proxied.stream,
  };
  const maxTokens = body['max_completion_tokens'] ?? body['max_tokens'];
  if (typeof maxTokens === 'number') attributes[GEN_AI.requestMaxTokens] = maxTokens;
  if (typeof body['temperature'] === 'number') attributes[GEN_AI.requestTemperature] = body['temperature'];
  if (typeof body['top_p'] === 'number') attributes[GEN_AI.requestTopP] = body['top_p'];
  if (typeof body['n'] === 'number' && body['n'] !== 1) attributes[GEN_AI.requestChoiceCount] = body['n'];
  if (captureContent) {
    const input = body['messages'] ?? body['prompt'] ?? body['input'];
    if (input !== undefined) attributes[GEN_AI.inputMessages] = JSON.stringify(input);
  }
  return attributes;
}

/**
 * The routing decision: strategy, tier, rule, every candidate and, for each one the filters removed, which filter
 * and why (`dosrouter.routing.filtered`: "deployment: filter (reason)"), and the order the attempts follow.
 */
export function routingAttributes(plan: RoutePlan): Attributes {
  const verdicts = plan.steps.flatMap((step) => step.verdicts);
  const attributes: Attributes = {
    'dosrouter.routing.requested_model': plan.requestedModel,
    'dosrouter.routing.target': plan.target,
    'dosrouter.routing.target_kind': plan.targetKind,
    'dosrouter.routing.strategy': plan.strategy.name,
    'dosrouter.routing.strategy_source': plan.strategy.source,
    'dosrouter.routing.steps': plan.steps.map((step) => `${step.name} (${step.source}, ${step.strategy})`),
    'dosrouter.routing.candidates': verdicts.map((verdict) => verdict.deployment.id),
    'dosrouter.routing.filtered': verdicts
      .filter((verdict) => !verdict.passed)
      .map((verdict) => `${verdict.deployment.id}: ${verdict.filter ?? 'filtered'}${verdict.reason ? ` (${verdict.reason})` : ''}`),
    'dosrouter.routing.order': plan.attempts.map((deployment) => deployment.id),
  };
  if (plan.rule) attributes['dosrouter.routing.rule'] = plan.rule;
  if (plan.classification) attributes['dosrouter.routing.tier'] = plan.classification.tier;
  if (plan.session) attributes['dosrouter.routing.session_deployment'] = plan.session.deployment ?? '';
  if (plan.keptDrained) attributes['dosrouter.routing.kept_drained'] = true;
  if (plan.economized) attributes['dosrouter.routing.economized'] = true;
  return attributes;
}

/** Each backend's part of its attempts' attributes, worked out once (a URL parse per attempt would be waste). */
const backendAttributes = new WeakMap<Backend, Attributes>();

function attributesOfBackend(backend: Backend): Attributes {
  let attributes = backendAttributes.get(backend);
  if (!attributes) {
    attributes = { [GEN_AI.providerName]: providerNameOf(backend), 'dosrouter.backend': backend.name };
    if (URL.canParse(backend.baseUrl)) {
      const url = new URL(backend.baseUrl);
      attributes['server.address'] = url.hostname;
      attributes['server.port'] = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    }
    backendAttributes.set(backend, attributes);
  }
  return attributes;
}

/** An attempt's span, when it starts: which deployment, on which backend, asked for which model. */
export function attemptAttributes(operationName: string, deployment: Deployment, backend: Backend): Attributes {
  return {
    ...attributesOfBackend(backend),
    [GEN_AI.operation]: operationName,
    [GEN_AI.requestModel]: deployment.upstreamModel,
    'dosrouter.deployment': deployment.id,
  };
}

const FINISH_REASON = /"finish_reason"\s*:\s*"([^"\\]{1,64})"/g;

/** The finish reasons of a non-streamed answer, in choice order, found without parsing it a second time. */
export function finishReasonsOf(body: Buffer): string[] {
  return Array.from(body.toString('utf8').matchAll(FINISH_REASON), (match) => match[1]!);
}

/** A non-streamed chat or text completion's choices (the answer's text), as JSON; undefined for anything else. */
export function outputMessagesOf(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { choices?: unknown };
    return Array.isArray(parsed.choices) ? JSON.stringify(parsed.choices) : undefined;
  } catch {
    return undefined;
  }
}
