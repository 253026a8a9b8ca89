import { z } from 'zod';

/**
 * The protocol a backend speaks. `openai`: the OpenAI-compatible HTTP API (OpenAI, OpenRouter, vLLM, Ollama, …), its
 * base URL including the version path. `anthropic`: Anthropic's Messages API, its base URL the API's origin as the
 * Anthropic SDKs take it (`https://api.anthropic.com`), the credential in `x-api-key`, with `anthropic-version`.
 */
export const backendKindSchema = z.enum(['openai', 'anthropic']);
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

/** Where a backend's credential goes when `apiKeyHeader` is not set. */
export const DEFAULT_API_KEY_HEADER: Readonly<Record<BackendKind, string>> = { openai: 'authorization', anthropic: 'x-api-key' };

/** The operations the gateway forwards: OpenAI's by their path below an OpenAI base URL, Anthropic's by theirs below `v1/`. */
export type BackendOperation = 'chat/completions' | 'completions' | 'embeddings' | 'models' | 'responses' | 'messages' | 'messages/count_tokens';

/** Each kind's path, below its base URL, of the operations it serves natively. */
const OPERATION_PATHS: Readonly<Record<BackendKind, Partial<Record<BackendOperation, string>>>> = {
  openai: { 'chat/completions': 'chat/completions', completions: 'completions', embeddings: 'embeddings', models: 'models', responses: 'responses' },
  anthropic: { messages: 'v1/messages', 'messages/count_tokens': 'v1/messages/count_tokens', models: 'v1/models' },
};

/** The path of `operation` below a backend's base URL (no leading slash); undefined when the kind does not serve it natively. */
export function operationPath(kind: BackendKind, operation: BackendOperation): string | undefined {
  return OPERATION_PATHS[kind][operation];
}
