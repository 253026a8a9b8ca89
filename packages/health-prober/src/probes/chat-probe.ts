import { performance } from 'node:perf_hooks';
import { isRecord, operationPath } from '@dosrouter/shared';
import { readEventData } from './event-stream-reader.js';
import { describeError, fetchFailure, isTimeout } from './fetch-failure.js';
import { operationUrl, type ProbeResult, type ProbeTarget } from './probe-result.js';

export interface ChatProbeTarget extends ProbeTarget {
  /**
   * A reasoning model (o-series, gpt-5, DeepSeek-R1…): it thinks before it answers, so `max_tokens: 16` could end
   * before any visible token, and OpenAI refuses `max_tokens` for these models anyway. Default false.
   */
  readonly reasoning?: boolean;
}

export interface ChatProbeResult extends ProbeResult {
  /** Milliseconds from sending the request to the first event carrying content, reasoning or a tool call. */
  readonly ttftMs?: number;
}

const PROMPT = 'Reply with OK.';
/** Budget of a normal model: enough for "OK." with any tokenizer, small enough to cost next to nothing. */
export const CHAT_PROBE_MAX_TOKENS = 16;
/**
 * Budget of a reasoning model, reasoning included, at `reasoning_effort: 'low'`. A model that thinks past it without
 * streaming its reasoning ends with finish_reason "length" and no token; the probe then says so in its reason.
 */
export const CHAT_PROBE_REASONING_MAX_TOKENS = 64;

/**
 * The `chat` probe: a minimal streaming chat completion, which proves what the `models` probe cannot (the model
 * actually generates) and measures time to first token. It is not free: on a paid provider each probe bills the
 * prompt (about 12 tokens) and up to 16 completion tokens, or up to 64 for a reasoning model.
 *
 * It passes when the stream carries at least one token and ends with `[DONE]` or a finish reason. Normal models get
 * `max_tokens`, which every OpenAI-compatible server accepts; reasoning models get `max_completion_tokens` and
 * `reasoning_effort: 'low'`, the only budget OpenAI accepts for them. The body is read event by event and cancelled
 * at the verdict, and `timeoutMs` bounds the whole exchange, stream included. A `kind: anthropic` backend gets the
 * same question as a streamed Messages request (MESSAGES below), a `kind: gemini` one as streamGenerateContent
 * (GEMINI below), judged the same way.
 */
export async function probeChat(target: ChatProbeTarget, clock: () => number = () => performance.now()): Promise<ChatProbeResult> {
  const started = clock();
  const elapsed = (): number => Math.round((clock() - started) * 100) / 100;
  const headers = new Headers(target.headers);
  headers.set('content-type', 'application/json');
  headers.set('accept', 'text/event-stream');
  const protocol = target.kind === 'anthropic' ? MESSAGES : target.kind === 'gemini' ? GEMINI : CHAT_COMPLETIONS;
  let response: Response;
  try {
    response = await fetch(operationUrl(target, protocol.operation(target)), {
      method: 'POST',
      headers,
      body: JSON.stringify(protocol.body(target)),
      signal: AbortSignal.timeout(target.timeoutMs),
    });
  } catch (error) {
    return fetchFailure(error, target.timeoutMs, elapsed());
  }
  const status = response.status;
  if (!response.ok) {
    const reason = await statusReason(response);
    return { ok: false, latencyMs: elapsed(), status, reason };
  }
  const contentType = response.headers.get('content-type') ?? '';
  if (response.body === null || !contentType.startsWith('text/event-stream')) {
    await response.body?.cancel();
    return { ok: false, latencyMs: elapsed(), status, reason: `answer is not an event stream (content-type ${contentType || 'none'})` };
  }

  let ttftMs: number | undefined;
  let finishReason: string | undefined;
  let ended = false;
  const fail = (reason: string): ChatProbeResult =>
    ttftMs === undefined ? { ok: false, latencyMs: elapsed(), status, reason } : { ok: false, latencyMs: elapsed(), status, reason, ttftMs };
  try {
    // Leaving this loop, by break or return, cancels the body (see readEventData).
    for await (const data of readEventData(response.body)) {
      if (data === '[DONE]') {
        ended = true;
        break;
      }
      const chunk = protocol.summarize(data);
      if (chunk === undefined) return fail('stream event is not JSON');
      if (chunk.error !== undefined) return fail(`stream reported an error${chunk.error === '' ? '' : ` (${chunk.error})`}`);
      if (chunk.token && ttftMs === undefined) ttftMs = elapsed();
      if (chunk.finishReason !== undefined) {
        finishReason = chunk.finishReason;
        ended = true;
        break;
      }
    }
  } catch (error) {
    return fail(isTimeout(error) ? `stream did not finish within ${target.timeoutMs} ms` : `stream broke: ${describeError(error)}`);
  }
  if (!ended) return fail('stream ended without [DONE] or a finish reason');
  if (ttftMs === undefined) {
    if (target.reasoning === true && finishReason === 'length') {
      return fail(`no token within ${CHAT_PROBE_REASONING_MAX_TOKENS} completion tokens (finish_reason length): reasoning used them up`);
    }
    return fail(`stream finished without a token${finishReason === undefined ? '' : ` (finish_reason ${finishReason})`}`);
  }
  return { ok: true, latencyMs: elapsed(), status, ttftMs };
}

/** What the probe asks of a backend of one protocol, and how it reads each event of the answer. */
interface StreamProtocol {
  /** The path below the base URL, with its own query if any. */
  operation(target: ChatProbeTarget): string;
  body(target: ChatProbeTarget): Record<string, unknown>;
  /** Undefined when the data is not a JSON object. */
  summarize(data: string): ChunkSummary | undefined;
}

const CHAT_COMPLETIONS: StreamProtocol = {
  operation: () => 'chat/completions',
  body(target) {
    const budget =
      target.reasoning === true
        ? { max_completion_tokens: CHAT_PROBE_REASONING_MAX_TOKENS, reasoning_effort: 'low' }
        : { max_tokens: CHAT_PROBE_MAX_TOKENS };
    return { model: target.upstreamModel, messages: [{ role: 'user', content: PROMPT }], stream: true, ...budget };
  },
  summarize: summarizeChunk,
};

/**
 * A `kind: anthropic` backend: the same question as a streamed Messages request to /v1/messages. Claude thinks only
 * when asked to, so `reasoning` changes nothing here: 16 tokens are enough.
 */
const MESSAGES: StreamProtocol = {
  operation: () => operationPath('anthropic', 'messages')!,
  body: (target) => ({ model: target.upstreamModel, max_tokens: CHAT_PROBE_MAX_TOKENS, messages: [{ role: 'user', content: PROMPT }], stream: true }),
  summarize: summarizeMessagesEvent,
};

/** A Messages stream event: a text, thinking or tool-input delta (or a tool use's start) is a token; message_delta's stop reason ends it. */
function summarizeMessagesEvent(data: string): ChunkSummary | undefined {
  const event = jsonObjectOf(data);
  if (event === undefined) return undefined;
  switch (event['type']) {
    case 'error':
      return { token: false, error: errorLabel(event['error']) };
    case 'content_block_start':
      return { token: isRecord(event['content_block']) && event['content_block']['type'] === 'tool_use' };
    case 'content_block_delta': {
      const delta = isRecord(event['delta']) ? event['delta'] : {};
      return { token: [delta['text'], delta['thinking'], delta['partial_json']].some(isNonEmptyString) };
    }
    case 'message_delta': {
      const stopReason = isRecord(event['delta']) ? event['delta']['stop_reason'] : undefined;
      return isNonEmptyString(stopReason) ? { token: false, finishReason: stopReason } : { token: false };
    }
    default:
      return { token: false };
  }
}

/**
 * A `kind: gemini` backend: the same question to models/{model}:streamGenerateContent?alt=sse. A thinking model
 * (`reasoning`) gets 64 output tokens and a thinking budget of 128 (the smallest every Gemini 2.5 Pro accepts), so
 * that thinking leaves room for a token; Gemini's stream has no closing event, the finishReason ends it.
 */
const GEMINI: StreamProtocol = {
  operation: (target) => operationPath('gemini', 'streamGenerateContent', target.upstreamModel)!,
  body: (target) => ({
    contents: [{ role: 'user', parts: [{ text: PROMPT }] }],
    generationConfig:
      target.reasoning === true
        ? { maxOutputTokens: CHAT_PROBE_REASONING_MAX_TOKENS, thinkingConfig: { thinkingBudget: GEMINI_PROBE_THINKING_BUDGET } }
        : { maxOutputTokens: CHAT_PROBE_MAX_TOKENS },
  }),
  summarize: summarizeGeminiEvent,
};

/** The thinking budget of a `reasoning` probe of a Gemini model. */
export const GEMINI_PROBE_THINKING_BUDGET = 128;

/** A GenerateContentResponse event: non-thought text or a function call is a token; a finishReason ends it. */
function summarizeGeminiEvent(data: string): ChunkSummary | undefined {
  const event = jsonObjectOf(data);
  if (event === undefined) return undefined;
  if (isRecord(event['error'])) {
    const status = event['error']['status'];
    return { token: false, error: isNonEmptyString(status) ? status.slice(0, 80) : '' };
  }
  const candidates = Array.isArray(event['candidates']) ? event['candidates'].filter(isRecord) : [];
  const token = candidates.some((candidate) => {
    const parts = isRecord(candidate['content']) && Array.isArray(candidate['content']['parts']) ? candidate['content']['parts'].filter(isRecord) : [];
    return parts.some((part) => (isNonEmptyString(part['text']) && part['thought'] !== true) || isRecord(part['functionCall']));
  });
  const finishReason = candidates.map((candidate) => candidate['finishReason']).find(isNonEmptyString);
  return finishReason === undefined ? { token } : { token, finishReason };
}

interface ChunkSummary {
  /** The chunk carries non-empty content, reasoning, or a tool call. The opening role chunk's `content: ""` is none. */
  readonly token: boolean;
  readonly finishReason?: string;
  /** Set when the chunk is an error event: its code or type, '' when it has neither. */
  readonly error?: string;
}

/** Undefined when the data is not a JSON object. */
function summarizeChunk(data: string): ChunkSummary | undefined {
  const chunk = jsonObjectOf(data);
  if (chunk === undefined) return undefined;
  if (chunk['error'] !== undefined && chunk['error'] !== null) {
    return { token: false, error: errorLabel(chunk['error']) };
  }
  const choices = Array.isArray(chunk['choices']) ? chunk['choices'].filter(isRecord) : [];
  const token = choices.some((choice) => {
    const delta = choice['delta'];
    if (!isRecord(delta)) return false;
    return (
      isNonEmptyString(delta['content']) ||
      isNonEmptyString(delta['reasoning_content']) ||
      isNonEmptyString(delta['reasoning']) ||
      (Array.isArray(delta['tool_calls']) && delta['tool_calls'].length > 0)
    );
  });
  const finishReason = choices.map((choice) => choice['finish_reason']).find(isNonEmptyString);
  return finishReason === undefined ? { token } : { token, finishReason };
}

/**
 * "status 400", with the OpenAI error code when the body has one ("status 400 (unsupported_parameter)"): it tells a
 * wrong `reasoning` flag from a bad credential. Never the error message, which may echo part of the API key.
 */
async function statusReason(response: Response): Promise<string> {
  let code = '';
  try {
    const body: unknown = JSON.parse(await response.text());
    if (isRecord(body)) code = errorLabel(body['error']);
  } catch {
    // Not JSON, or the body broke off: the status alone says enough.
  }
  return code === '' ? `status ${response.status}` : `status ${response.status} (${code})`;
}

function errorLabel(error: unknown): string {
  if (!isRecord(error)) return '';
  // Gemini's errors carry a numeric code and their meaning in `status` (RESOURCE_EXHAUSTED).
  const label = [error['code'], error['type'], error['status']].find(isNonEmptyString);
  return label === undefined ? '' : label.slice(0, 80);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** One stream event's data as a JSON object; undefined when it is not JSON or not an object. */
function jsonObjectOf(data: string): Record<string, unknown> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return undefined;
  }
  return isRecord(parsed) ? parsed : undefined;
}
