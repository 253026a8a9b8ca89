import { describe, expect, it } from 'vitest';
import { ContinuationRewriter } from './continuation-events.js';
import { continuationBody, refusedPrefill } from './continuation-request.js';
import { DeliveredStream, type Transcript } from './delivered-stream.js';
import { sumUsage, usageChunkData } from './merged-usage.js';
import { normalizeText, PrefixMatcher } from './prefix-match.js';

const event = (chunk: unknown): string => `data: ${JSON.stringify(chunk)}\n\n`;
const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}) => ({
  id: 'chatcmpl-first',
  object: 'chat.completion.chunk',
  created: 1700000000,
  model: 'gpt-test',
  choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  ...extra,
});

describe('DeliveredStream', () => {
  it('reads back the text, the id and the role delta the client was sent', () => {
    const delivered = new DeliveredStream(10_000);
    delivered.add(event(chunk({ role: 'assistant', content: '' })) + event(chunk({ content: 'Once' })));
    delivered.add(Buffer.from(event(chunk({ content: ' upon' }))));
    const transcript = delivered.transcript();
    expect(transcript).toMatchObject({ id: 'chatcmpl-first', created: 1700000000, model: 'gpt-test', text: 'Once upon' });
    expect(transcript.unrecoverable).toBeUndefined();
  });

  it('refuses a stream that broke inside a tool call', () => {
    const delivered = new DeliveredStream(10_000);
    delivered.add(event(chunk({ content: 'Let me look.' })) + event(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"q' } }] })));
    expect(delivered.transcript().unrecoverable).toMatch(/tool call/);
  });

  it('refuses a stream with no text yet, or with refusal text; a null refusal is no refusal', () => {
    const refused = new DeliveredStream(10_000);
    refused.add(event(chunk({ refusal: 'I cannot' })));
    expect(refused.transcript().unrecoverable).toMatch(/refusal/);
    const nullRefusal = new DeliveredStream(10_000);
    nullRefusal.add(event(chunk({ role: 'assistant', content: 'Sure', refusal: null })));
    expect(nullRefusal.transcript()).toMatchObject({ text: 'Sure', unrecoverable: undefined });
    const empty = new DeliveredStream(10_000);
    empty.add(event(chunk({ role: 'assistant', content: '' })));
    expect(empty.transcript().unrecoverable).toMatch(/no text/);
  });

  it('lets go of everything past its limit, and then refuses', () => {
    const delivered = new DeliveredStream(10);
    delivered.add(event(chunk({ content: 'a long enough answer' })));
    expect(delivered.transcript().unrecoverable).toMatch(/more than 10 bytes/);
  });

  it('keeps only the content, unescaped when read back, and the first event with an id', () => {
    const delivered = new DeliveredStream(10_000);
    delivered.add(': keep-alive\n\n' + event(chunk({ role: 'assistant', content: 'say \"hi\"\n' })) + event(chunk({ content: 'é' })));
    expect(delivered.transcript()).toMatchObject({ id: 'chatcmpl-first', text: 'say \"hi\"\né' });
  });

  it('reads spaced and pretty-printed events of several data lines', () => {
    const delivered = new DeliveredStream(10_000);
    delivered.add(`data: {"id":"x","choices":[{"index":0,\ndata: "delta":{"content" : "hi"}}]}\n\n`);
    delivered.add(`data: {"id": "x", "choices": [{"delta": {"content": " there", "note": "\\"content\\": \\"no\\""}}]}\n\n`);
    expect(delivered.transcript().text).toBe('hi there');
  });
});

describe('PrefixMatcher', () => {
  it('waits until the new answer is as long as the delivered text, then gives exactly what follows', () => {
    const matcher = new PrefixMatcher('Once upon a');
    expect(matcher.push('Once')).toEqual({ verdict: 'pending' });
    expect(matcher.push(' upon')).toEqual({ verdict: 'pending' });
    expect(matcher.push(' a time')).toEqual({ verdict: 'matched', rest: ' time' });
    expect(matcher.push(' there')).toEqual({ verdict: 'matched', rest: ' there' });
  });

  it('compares whitespace loosely', () => {
    const matcher = new PrefixMatcher('Once\nupon  a');
    expect(matcher.push('Once upon a')).toEqual({ verdict: 'matched', rest: '' });
    expect(normalizeText('  a \n\t b ')).toBe('a b ');
  });

  it('says mismatch as soon as the new answer departs from the delivered text', () => {
    const matcher = new PrefixMatcher('Once upon a time');
    expect(matcher.push('Twice')).toEqual({ verdict: 'mismatch' });
  });

  it('cuts after the whitespace that ends the delivered text', () => {
    const matcher = new PrefixMatcher('Once ');
    expect(matcher.push('Once  upon')).toEqual({ verdict: 'matched', rest: 'upon' });
  });
});

describe('continuationBody', () => {
  const body = { model: 'client-model', stream: true, n: 1, messages: [{ role: 'user', content: 'hi' }], stream_options: { include_usage: false } };

  it('prefills the delivered text as a trailing assistant message and asks for usage', () => {
    expect(JSON.parse(continuationBody(body, 'upstream', 'prefill', 'Once upon'))).toEqual({
      model: 'upstream',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'Once upon' }],
      stream_options: { include_usage: true },
    });
  });

  it('resends the conversation as it was in replay mode', () => {
    expect(JSON.parse(continuationBody(body, 'upstream', 'replay', 'Once upon')).messages).toEqual(body.messages);
  });

  it('takes a 400 or 422 for a refused prefill, not a context overflow', () => {
    expect(refusedPrefill(400, 'invalid_value')).toBe(true);
    expect(refusedPrefill(400, 'context_length_exceeded')).toBe(false);
    expect(refusedPrefill(500, undefined)).toBe(false);
  });
});

describe('ContinuationRewriter', () => {
  const transcript: Transcript = {
    id: 'chatcmpl-first',
    created: 1700000000,
    model: 'gpt-test',
    systemFingerprint: undefined,
    text: 'Once upon',
    unrecoverable: undefined,
  };
  const other = (delta: Record<string, unknown>, finish: string | null = null) =>
    JSON.stringify({ ...chunk(delta, finish), id: 'chatcmpl-second', created: 1800000000, model: 'other-model', usage: null });
  const sent = (result: ReturnType<ContinuationRewriter['rewrite']>) => ('send' in result ? result.send.map((data) => JSON.parse(data) as unknown) : result);

  it('drops the second role delta and writes the first attempt\'s id, created and model', () => {
    const rewriter = new ContinuationRewriter(transcript, 'prefill');
    expect(sent(rewriter.rewrite(other({ role: 'assistant', content: '' })))).toEqual([]);
    expect(sent(rewriter.rewrite(other({ content: ' a' })))).toEqual([
      { id: 'chatcmpl-first', object: 'chat.completion.chunk', created: 1700000000, model: 'gpt-test', choices: [{ index: 0, delta: { content: ' a' }, logprobs: null, finish_reason: null }] },
    ]);
    expect(rewriter.tokenSent).toBe(true);
  });

  it('holds back the usage chunk and [DONE]', () => {
    const rewriter = new ContinuationRewriter(transcript, 'prefill');
    expect(sent(rewriter.rewrite(JSON.stringify({ id: 'x', choices: [], usage: { prompt_tokens: 1 } })))).toEqual([]);
    expect(sent(rewriter.rewrite('[DONE]'))).toEqual([]);
  });

  it('in replay mode sends only what follows the delivered text', () => {
    const rewriter = new ContinuationRewriter(transcript, 'replay');
    expect(sent(rewriter.rewrite(other({ content: 'Once' })))).toEqual([]);
    const [first] = sent(rewriter.rewrite(other({ content: ' upon a' }))) as Array<{ choices: Array<{ delta: unknown }> }>;
    expect(first!.choices[0]!.delta).toEqual({ content: ' a' });
    const [finish] = sent(rewriter.rewrite(other({}, 'stop'))) as Array<{ choices: Array<{ finish_reason: unknown }> }>;
    expect(finish!.choices[0]!.finish_reason).toBe('stop');
  });

  it('fails a replayed answer that departs from the delivered text, or ends before it', () => {
    expect(new ContinuationRewriter(transcript, 'replay').rewrite(other({ content: 'Twice' }))).toEqual({ fail: expect.stringMatching(/does not start/) });
    const short = new ContinuationRewriter(transcript, 'replay');
    short.rewrite(other({ content: 'Once' }));
    expect(short.rewrite(other({}, 'stop'))).toEqual({ fail: expect.stringMatching(/shorter/) });
  });

  it('fails a continuation that calls a tool', () => {
    expect(new ContinuationRewriter(transcript, 'prefill').rewrite(other({ tool_calls: [{ index: 0 }] }))).toEqual({ fail: expect.stringMatching(/tool/) });
  });
});

describe('merged usage', () => {
  it('sums every attempt, a missing one as nothing', () => {
    expect(sumUsage([{ promptTokens: 10, completionTokens: 4, totalTokens: 14 }, undefined, { promptTokens: 14, completionTokens: 6, totalTokens: 20 }])).toEqual({
      promptTokens: 24,
      completionTokens: 10,
      totalTokens: 34,
    });
  });

  it('makes the usage-only chunk in the first attempt\'s id', () => {
    const transcript: Transcript = { id: 'c1', created: 5, model: 'm', systemFingerprint: undefined, text: 'a', unrecoverable: undefined };
    expect(JSON.parse(usageChunkData(transcript, { promptTokens: 1, completionTokens: 2, totalTokens: 3 }))).toEqual({
      id: 'c1',
      object: 'chat.completion.chunk',
      created: 5,
      model: 'm',
      choices: [],
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
    });
  });
});
