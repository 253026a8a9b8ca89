import { z } from 'zod';

/**
 * The protocol a backend speaks. `openai`: the OpenAI-compatible HTTP API (OpenAI, OpenRouter, vLLM, Ollama, …), its
 * base URL including the version path. `anthropic`: Anthropic's Messages API, its base URL the API's origin as the
 * Anthropic SDKs take it (`https://api.anthropic.com`), the credential in `x-api-key`, with `anthropic-version`.
 * `gemini`: Google's Gemini API (`generateContent`), its base URL including the version path
 * (`https://generativelanguage.googleapis.com/v1beta`), the credential in `x-goog-api-key`.
 */
export const backendKindSchema = z.enum(['openai', 'anthropic', 'gemini']);
export type BackendKind = z.infer<typeof backendKindSchema>;

/** The version of Anthropic's API the gateway speaks; sent as `anthropic-version` unless a backend's headers say otherwise. */
export const ANTHROPIC_VERSION = '2023-06-01';

/** A `kind: anthropic` backend's base URL when none is configured. */
export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';

/**
 * The API a `kind: openai` backend's generation requests use. `chat` (the default): Chat Completions, which every
 * OpenAI-compatible server speaks; a Responses request is translated to it. `responses`: OpenAI's Responses API
 * (`POST {baseUrl}/responses`), to which a Responses request passes through and a chat completion is translated.
 */
export const backendApiSchema = z.enum(['chat', 'responses']);
export type BackendApi = z.infer<typeof backendApiSchema>;

/** A `kind: gemini` backend's base URL when none is configured: the Gemini Developer API, version v1beta. */
export const GEMINI_BASE_URL = 'https://generativelanguage.googleapis.com/v1beta';

/** The base URL of a kind whose provider has one API (Anthropic's, Google's); undefined for `openai`. */
export const DEFAULT_BASE_URL: Readonly<Record<BackendKind, string | undefined>> = {
  openai: undefined,
  anthropic: ANTHROPIC_BASE_URL,
  gemini: GEMINI_BASE_URL,
};

/** Where a backend's credential goes when `apiKeyHeader` is not set. */
export const DEFAULT_API_KEY_HEADER: Readonly<Record<BackendKind, string>> = { openai: 'authorization', anthropic: 'x-api-key', gemini: 'x-goog-api-key' };

/**
 * The operations the gateway forwards: OpenAI's by their path below an OpenAI base URL, Anthropic's by theirs below
 * `v1/`, Gemini's below its versioned base URL (`generateContent` and `streamGenerateContent` name a model).
 */
export type BackendOperation =
  | 'chat/completions'
  | 'completions'
  | 'embeddings'
  | 'models'
  | 'responses'
  | 'messages'
  | 'messages/count_tokens'
  | 'generateContent'
  | 'streamGenerateContent';

/** Each kind's path, below its base URL, of the operations it serves natively. */
const OPERATION_PATHS: Readonly<Record<BackendKind, Partial<Record<BackendOperation, string>>>> = {
  openai: { 'chat/completions': 'chat/completions', completions: 'completions', embeddings: 'embeddings', models: 'models', responses: 'responses' },
  anthropic: { messages: 'v1/messages', 'messages/count_tokens': 'v1/messages/count_tokens', models: 'v1/models' },
  // `{model}` is the backend's model id; a stream is asked for as server-sent events (`alt=sse`), not a JSON array.
  gemini: { models: 'models', generateContent: 'models/{model}:generateContent', streamGenerateContent: 'models/{model}:streamGenerateContent?alt=sse' },
};

/**
 * The path of `operation` below a backend's base URL (no leading slash), with `model` in place of `{model}`; undefined
 * when the kind does not serve it natively. It may carry a query (`?alt=sse`).
 */
export function operationPath(kind: BackendKind, operation: BackendOperation, model = ''): string | undefined {
  return OPERATION_PATHS[kind][operation]?.replace('{model}', encodeURIComponent(model));
}
