/**
 * Anthropic's Messages API on the wire (anthropic-version 2023-06-01), as far as the gateway reads or writes it:
 * requests to `POST /v1/messages` and `/v1/messages/count_tokens`, answers, stream events and errors. Checked against
 * the official `@anthropic-ai/sdk` type definitions. Fields the gateway never reads are left to index signatures on
 * the objects that pass through, so a newer field is carried, not dropped.
 */

/** The API version the gateway speaks and sends to native backends (`anthropic-version`). */
export { ANTHROPIC_VERSION } from '@dosrouter/shared';

// ── Request ─────────────────────────────────────────────────────────────────────────────────────────────────────────

/** Prompt caching: the prefix up to and including this block is cached (5 minutes unless `ttl` says 1 h). */
export interface CacheControlEphemeral {
  type: 'ephemeral';
  ttl?: '5m' | '1h';
}

export interface TextBlockParam {
  type: 'text';
  text: string;
  cache_control?: CacheControlEphemeral | null;
  citations?: unknown[] | null;
}

export interface Base64ImageSource {
  type: 'base64';
  media_type: 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp';
  data: string;
}

export interface UrlSource {
  type: 'url';
  url: string;
}

export interface FileSource {
  type: 'file';
  file_id: string;
}

export interface ImageBlockParam {
  type: 'image';
  source: Base64ImageSource | UrlSource | FileSource;
  cache_control?: CacheControlEphemeral | null;
}

export interface Base64PdfSource {
  type: 'base64';
  media_type: 'application/pdf';
  data: string;
}

export interface PlainTextSource {
  type: 'text';
  media_type: 'text/plain';
  data: string;
}

export interface ContentBlockSource {
  type: 'content';
  content: string | Array<TextBlockParam | ImageBlockParam>;
}

export interface DocumentBlockParam {
  type: 'document';
  source: Base64PdfSource | PlainTextSource | ContentBlockSource | UrlSource | FileSource;
  title?: string | null;
  context?: string | null;
  citations?: { enabled?: boolean } | null;
  cache_control?: CacheControlEphemeral | null;
}

export interface ToolUseBlockParam {
  type: 'tool_use';
  id: string;
  name: string;
  input: unknown;
  cache_control?: CacheControlEphemeral | null;
}

export interface ToolResultBlockParam {
  type: 'tool_result';
  tool_use_id: string;
  content?: string | Array<TextBlockParam | ImageBlockParam | DocumentBlockParam>;
  is_error?: boolean;
  cache_control?: CacheControlEphemeral | null;
}

export interface ThinkingBlockParam {
  type: 'thinking';
  thinking: string;
  signature: string;
}

export interface RedactedThinkingBlockParam {
  type: 'redacted_thinking';
  data: string;
}

export type ContentBlockParam =
  | TextBlockParam
  | ImageBlockParam
  | DocumentBlockParam
  | ToolUseBlockParam
  | ToolResultBlockParam
  | ThinkingBlockParam
  | RedactedThinkingBlockParam;

export type ContentBlockParamType = ContentBlockParam['type'];

export interface MessageParam {
  role: 'user' | 'assistant';
  content: string | ContentBlockParam[];
}

/** A client tool. Anthropic's server tools (`web_search_20250305`, `bash_20250124`, …) carry a `type` instead of a schema. */
export interface Tool {
  name: string;
  description?: string;
  input_schema: { type: 'object'; properties?: unknown; required?: string[]; [key: string]: unknown };
  type?: 'custom' | null;
  cache_control?: CacheControlEphemeral | null;
}

export type ToolChoice =
  | { type: 'auto'; disable_parallel_tool_use?: boolean }
  | { type: 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean }
  | { type: 'none' };

export type ThinkingConfig = { type: 'enabled'; budget_tokens: number } | { type: 'disabled' } | { type: 'adaptive' };

export interface MessageCreateParams {
  model: string;
  max_tokens: number;
  messages: MessageParam[];
  system?: string | TextBlockParam[];
  tools?: Tool[];
  tool_choice?: ToolChoice;
  thinking?: ThinkingConfig;
  stop_sequences?: string[];
  temperature?: number;
  top_p?: number;
  top_k?: number;
  metadata?: { user_id?: string | null };
  stream?: boolean;
  service_tier?: 'auto' | 'standard_only';
}

/** `POST /v1/messages/count_tokens`: a Messages request without the generation settings. */
export type MessageCountTokensParams = Pick<MessageCreateParams, 'model' | 'messages' | 'system' | 'tools' | 'tool_choice' | 'thinking'>;

export interface MessageTokensCount {
  input_tokens: number;
}

// ── Answer ──────────────────────────────────────────────────────────────────────────────────────────────────────────

export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'pause_turn' | 'refusal' | 'model_context_window_exceeded';

export interface TextBlock {
  type: 'text';
  text: string;
  citations: unknown[] | null;
}

export interface ToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: unknown;
}

export interface ThinkingBlock {
  type: 'thinking';
  thinking: string;
  signature: string;
}

export interface RedactedThinkingBlock {
  type: 'redacted_thinking';
  data: string;
}

export type ContentBlock = TextBlock | ToolUseBlock | ThinkingBlock | RedactedThinkingBlock;

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  /** Tokens written to the prompt cache by this request (priced at the cache-write rate). */
  cache_creation_input_tokens: number | null;
  /** Tokens read from the prompt cache (priced at the cache-read rate); not part of `input_tokens`. */
  cache_read_input_tokens: number | null;
  service_tier?: 'standard' | 'priority' | 'batch' | null;
}

export interface Message {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: ContentBlock[];
  stop_reason: StopReason | null;
  stop_sequence: string | null;
  usage: Usage;
}

// ── Stream events (server-sent events, each `event: <type>` then `data: <json>`) ────────────────────────────────────

export type ContentBlockDelta =
  | { type: 'text_delta'; text: string }
  | { type: 'input_json_delta'; partial_json: string }
  | { type: 'thinking_delta'; thinking: string }
  | { type: 'signature_delta'; signature: string }
  | { type: 'citations_delta'; citation: unknown };

/** `message_delta`'s usage: cumulative counts; `output_tokens` always, the input counts when known. */
export interface MessageDeltaUsage {
  output_tokens: number;
  input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

export type MessageStreamEvent =
  | { type: 'message_start'; message: Message }
  | { type: 'content_block_start'; index: number; content_block: ContentBlock }
  | { type: 'content_block_delta'; index: number; delta: ContentBlockDelta }
  | { type: 'content_block_stop'; index: number }
  | { type: 'message_delta'; delta: { stop_reason: StopReason | null; stop_sequence: string | null }; usage: MessageDeltaUsage }
  | { type: 'message_stop' }
  | { type: 'ping' }
  | { type: 'error'; error: ErrorObject };

export type MessageStreamEventType = MessageStreamEvent['type'];

// ── Errors ──────────────────────────────────────────────────────────────────────────────────────────────────────────

/** Anthropic's error types and the HTTP status each is sent with (an `error` stream event carries the type only). */
export const ERROR_TYPE_STATUS = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
} as const;

export type ErrorType = keyof typeof ERROR_TYPE_STATUS;

export interface ErrorObject {
  type: ErrorType;
  message: string;
}

/** Every error body: `{"type":"error","error":{"type","message"}}`, with the request's id when known. */
export interface ErrorResponse {
  type: 'error';
  error: ErrorObject;
  request_id?: string;
}
