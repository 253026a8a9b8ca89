import type { Transcript } from './delivered-stream.js';
import type { ContinuationMode } from './continuation-request.js';
import { PrefixMatcher } from './prefix-match.js';

/** What one event of a continuation becomes for the client. */
export type Rewritten =
  /** Event data to send (none: nothing new for the client in it). */
  | { readonly send: readonly string[] }
  /** The continuation cannot be relayed: end the client's stream with an error. */
  | { readonly fail: string };

/**
 * Rewrites a continuation's events into the client's stream, so that it reads as one answer: the first attempt's
 * `id`, `created`, `model` and `system_fingerprint`; no second role delta; no usage chunk (the gateway sends one
 * that sums every attempt); in `replay` mode, nothing of the new answer until it has repeated the delivered text,
 * then only what follows it. Runs only on the rare continued stream, so it parses every event.
 */
export class ContinuationRewriter {
  private readonly matcher: PrefixMatcher | undefined;
  /** A new token was sent to the client (the continuation is under way: it can no longer fail over unseen). */
  tokenSent = false;
  finished = false;

  constructor(
    private readonly transcript: Transcript,
    mode: ContinuationMode,
  ) {
    this.matcher = mode === 'replay' ? new PrefixMatcher(transcript.text) : undefined;
  }

  rewrite(data: string): Rewritten {
    if (data === '[DONE]') return { send: [] };
    let chunk: Record<string, unknown>;
    try {
      chunk = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return { fail: 'a malformed event in the continuation' };
    }
    const choices = chunk['choices'];
    if (!Array.isArray(choices) || choices.length === 0) return { send: [] }; // the usage chunk, or an unknown event
    const choice = { ...(choices[0] as Record<string, unknown>) };
    if (choices.length > 1 || (choice['index'] !== undefined && choice['index'] !== 0)) return { fail: 'a continuation with several choices' };
    const delta = { ...((choice['delta'] ?? {}) as Record<string, unknown>) };
    if ((delta['tool_calls'] ?? delta['function_call']) != null) return { fail: 'a continuation that calls a tool' };
    delete delta['role'];
    const finish = choice['finish_reason'];
    if (typeof delta['content'] === 'string' && this.matcher) {
      const verdict = this.matcher.push(delta['content']);
      if (verdict.verdict === 'mismatch') return { fail: 'a new answer that does not start with the text already sent' };
      delta['content'] = verdict.verdict === 'matched' ? verdict.rest : '';
    }
    if (finish != null && this.matcher && !this.matcher.satisfied) return { fail: 'a new answer shorter than the text already sent' };
    const hasContent = typeof delta['content'] === 'string' && delta['content'] !== '';
    if (!hasContent) delete delta['content'];
    if (!hasContent && finish == null && Object.keys(delta).length === 0) return { send: [] };
    if (hasContent) this.tokenSent = true;
    if (finish != null) this.finished = true;
    const { id, created, model, systemFingerprint } = this.transcript;
    const rewritten: Record<string, unknown> = { ...chunk, choices: [{ ...choice, delta }] };
    if (id !== undefined) rewritten['id'] = id;
    if (created !== undefined) rewritten['created'] = created;
    if (model !== undefined) rewritten['model'] = model;
    if (systemFingerprint !== undefined) rewritten['system_fingerprint'] = systemFingerprint;
    delete rewritten['usage'];
    return { send: [JSON.stringify(rewritten)] };
  }
}
