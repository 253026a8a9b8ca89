/**
 * How a continuation asks for the rest of an answer: `prefill` resends the conversation with the text the client
 * already has as a trailing assistant message (the model continues it; only what is new is relayed); `replay`
 * resends it as it was, for a backend that refused the prefill (the new answer must start with the delivered text).
 */
export type ContinuationMode = 'prefill' | 'replay';

/**
 * The body of a continuation attempt: the client's request with the deployment's model id, usage asked for (every
 * attempt is charged from its own usage) and, in `prefill` mode, the delivered text as the last message. `n` is
 * left out (a continued stream has one choice). `max_tokens` is kept: a continued answer may be up to the
 * delivered tokens longer than one backend would have made it.
 */
export function continuationBody(body: Readonly<Record<string, unknown>>, upstreamModel: string, mode: ContinuationMode, delivered: string): string {
  const { n: _n, ...rest } = body;
  const messages = Array.isArray(body['messages']) ? (body['messages'] as unknown[]) : [];
  return JSON.stringify({
    ...rest,
    model: upstreamModel,
    stream: true,
    stream_options: { ...(body['stream_options'] as object | undefined), include_usage: true },
    messages: mode === 'prefill' ? [...messages, { role: 'assistant', content: delivered }] : messages,
  });
}

/**
 * Whether a backend's answer to a prefilled continuation is its refusal of the prefill: a 400 or 422 that is not
 * about the context length. Asked again without the prefill, it may still continue the answer.
 */
export function refusedPrefill(status: number, code: string | undefined): boolean {
  return (status === 400 || status === 422) && code !== 'context_length_exceeded' && code !== 'string_above_max_length';
}
