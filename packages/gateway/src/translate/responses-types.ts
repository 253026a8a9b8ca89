/**
 * The part of OpenAI's Responses API (`POST /v1/responses`) the gateway reads and writes, after the `openai` SDK's
 * types (`openai/resources/responses`). Requests are the validated shape (validation/responses-request.ts); fields the
 * gateway passes on without reading are not listed.
 */

export interface InputText {
  type: 'input_text';
  text: string;
}

export interface InputImage {
  type: 'input_image';
  image_url?: string | null;
  file_id?: string | null;
  detail?: 'low' | 'high' | 'auto' | 'original' | null;
}

export interface InputFile {
  type: 'input_file';
  file_data?: string;
  file_id?: string | null;
  file_url?: string;
  filename?: string;
}

export type InputPart = InputText | InputImage | InputFile;

export interface OutputText {
  type: 'output_text';
  text: string;
  annotations: unknown[];
  logprobs?: unknown[];
}

export interface OutputRefusal {
  type: 'refusal';
  refusal: string;
}

export interface MessageItem {
  type?: 'message';
  id?: string;
  role: 'user' | 'assistant' | 'system' | 'developer';
  content: string | Array<InputPart | OutputText | OutputRefusal>;
  status?: string;
}

export interface FunctionCallItem {
  type: 'function_call';
  id?: string;
  call_id: string;
  name: string;
  arguments: string;
  status?: 'in_progress' | 'completed' | 'incomplete';
}

export interface FunctionCallOutputItem {
  type: 'function_call_output';
  id?: string;
  call_id: string;
  output: string | InputPart[];
}

export interface ReasoningItem {
  type: 'reasoning';
  id: string;
  summary: Array<{ type: 'summary_text'; text: string }>;
  content?: Array<{ type: 'reasoning_text'; text: string }>;
  encrypted_content?: string | null;
  status?: 'in_progress' | 'completed' | 'incomplete';
}

export type InputItem = MessageItem | FunctionCallItem | FunctionCallOutputItem | ReasoningItem;

export interface FunctionTool {
  type: 'function';
  name: string;
  description?: string | null;
  parameters?: Record<string, unknown> | null;
  strict?: boolean | null;
}

export type ToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; name: string };

export type TextFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: Record<string, unknown>; description?: string; strict?: boolean | null };

export interface ResponsesRequest {
  model: string;
  input: string | InputItem[];
  instructions?: string | null;
  tools?: FunctionTool[] | null;
  tool_choice?: ToolChoice | null;
  parallel_tool_calls?: boolean | null;
  max_output_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  text?: { format?: TextFormat | null; verbosity?: 'low' | 'medium' | 'high' | null } | null;
  reasoning?: { effort?: string | null; summary?: string | null } | null;
  metadata?: Record<string, string> | null;
  stream?: boolean | null;
  store?: boolean | null;
  previous_response_id?: string | null;
  user?: string;
  safety_identifier?: string;
  prompt_cache_key?: string;
  service_tier?: string | null;
  truncation?: 'auto' | 'disabled' | null;
}

export type OutputMessage = { type: 'message'; id: string; role: 'assistant'; status: 'in_progress' | 'completed' | 'incomplete'; content: Array<OutputText | OutputRefusal> };
export type OutputItem = OutputMessage | (FunctionCallItem & { id: string; status: 'in_progress' | 'completed' | 'incomplete' }) | ReasoningItem;

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export type ResponseStatus = 'completed' | 'failed' | 'in_progress' | 'incomplete';

/** A Response object, as `POST /v1/responses` answers and `response.*` events carry it. */
export interface ResponseObject {
  id: string;
  object: 'response';
  created_at: number;
  status: ResponseStatus;
  background: false;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: 'max_output_tokens' | 'content_filter' } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  model: string;
  output: OutputItem[];
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  reasoning: { effort: string | null; summary: string | null };
  store: boolean;
  temperature: number | null;
  text: { format: TextFormat; verbosity?: string };
  tool_choice: ToolChoice;
  tools: FunctionTool[];
  top_p: number | null;
  truncation: 'auto' | 'disabled';
  usage: ResponseUsage | null;
  user: string | null;
  metadata: Record<string, string>;
  completed_at?: number | null;
}
