/**
 * The parts of Google's Gemini API (`models/{model}:generateContent`, v1beta, REST JSON) the gateway writes and reads.
 * Field names as the REST API spells them (lowerCamelCase); everything the gateway does not use is left out.
 */

export interface GeminiBlob {
  mimeType: string;
  /** Base64. */
  data: string;
}

export interface GeminiFileData {
  mimeType?: string;
  fileUri: string;
}

export interface GeminiFunctionCall {
  /** Set by some models and by Vertex AI; the gateway makes one when it is absent. */
  id?: string;
  name: string;
  args?: Record<string, unknown>;
}

export interface GeminiFunctionResponse {
  id?: string;
  name: string;
  response: Record<string, unknown>;
}

/** One part of a content: exactly one of its data fields is set. */
export interface GeminiPart {
  text?: string;
  /** A part of the model's thinking (a thought summary), not of its answer. */
  thought?: boolean;
  thoughtSignature?: string;
  inlineData?: GeminiBlob;
  fileData?: GeminiFileData;
  functionCall?: GeminiFunctionCall;
  functionResponse?: GeminiFunctionResponse;
}

export interface GeminiContent {
  role?: 'user' | 'model';
  parts: GeminiPart[];
}

export interface GeminiFunctionDeclaration {
  name: string;
  description?: string;
  /** JSON Schema (the field that takes it as it is, unlike `parameters`' OpenAPI subset). */
  parametersJsonSchema?: Record<string, unknown>;
}

export interface GeminiToolConfig {
  functionCallingConfig: { mode: 'AUTO' | 'ANY' | 'NONE'; allowedFunctionNames?: string[] };
}

export interface GeminiGenerationConfig {
  stopSequences?: string[];
  responseMimeType?: string;
  /** JSON Schema (the field that takes it as it is, unlike `responseSchema`'s OpenAPI subset). */
  responseJsonSchema?: unknown;
  candidateCount?: number;
  maxOutputTokens?: number;
  temperature?: number;
  topP?: number;
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  thinkingConfig?: { thinkingBudget: number };
}

export interface GenerateContentRequest {
  contents: GeminiContent[];
  systemInstruction?: GeminiContent;
  tools?: { functionDeclarations: GeminiFunctionDeclaration[] }[];
  toolConfig?: GeminiToolConfig;
  generationConfig?: GeminiGenerationConfig;
}

export interface GeminiUsageMetadata {
  /** Every prompt token, cached ones included. */
  promptTokenCount?: number;
  cachedContentTokenCount?: number;
  /** The answer's tokens, thinking excluded. */
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  /** The prompt of a tool the model ran itself (code execution, search), counted apart from the prompt. */
  toolUsePromptTokenCount?: number;
  totalTokenCount?: number;
}

export interface GeminiCandidate {
  content?: { role?: string; parts?: GeminiPart[] };
  finishReason?: string;
  index?: number;
}

export interface GenerateContentResponse {
  candidates?: GeminiCandidate[];
  /** Set when the prompt itself was blocked: no candidate comes. */
  promptFeedback?: { blockReason?: string };
  usageMetadata?: GeminiUsageMetadata;
  modelVersion?: string;
  responseId?: string;
}
