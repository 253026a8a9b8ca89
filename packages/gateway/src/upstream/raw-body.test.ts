import { describe, expect, it } from 'vitest';
import { rewriteBody, topLevelMembers } from './raw-body.js';

const rewrite = (text: string, model: string, streamOptions?: object): string => {
  const raw = Buffer.from(text, 'utf8');
  return rewriteBody(raw, topLevelMembers(raw), model, streamOptions).toString('utf8');
};

describe('rewriting the upstream body from the client’s bytes', () => {
  it('changes only the model value and keeps every other byte as the client wrote it', () => {
    const text = '{ "messages" : [ {"role":"user","content":"é {\\"model\\": \\"x\\"} \\\\"} ],\n  "model" :"gpt-4o",  "temperature": 0.50 }';
    expect(rewrite(text, 'upstream-id')).toBe('{ "messages" : [ {"role":"user","content":"é {\\"model\\": \\"x\\"} \\\\"} ],\n  "model" :"upstream-id",  "temperature": 0.50 }');
  });

  it('leaves nested members named model alone', () => {
    const text = '{"metadata":{"model":"keep"},"tools":[{"model":"keep"}],"model":"m"}';
    expect(JSON.parse(rewrite(text, 'u'))).toEqual({ metadata: { model: 'keep' }, tools: [{ model: 'keep' }], model: 'u' });
  });

  it('rewrites every top-level model when the client sent the name twice, so no backend can pick the unrouted one', () => {
    const rewritten = rewrite('{"model":"allowed","messages":[],"model":"forbidden"}', 'routed');
    expect(rewritten).toBe('{"model":"routed","messages":[],"model":"routed"}');
  });

  it('recognises a key written with escapes', () => {
    expect(JSON.parse(rewrite('{"mod\\u0065l":"m","x":1}', 'u'))).toEqual({ model: 'u', x: 1 });
  });

  it('adds stream_options when the client sent none, and replaces the ones it sent', () => {
    expect(JSON.parse(rewrite('{"model":"m","stream":true}', 'u', { include_usage: true }))).toEqual({ model: 'u', stream: true, stream_options: { include_usage: true } });
    expect(JSON.parse(rewrite('{"stream_options":null,"model":"m","stream":true}', 'u', { include_usage: true }))).toEqual({
      model: 'u',
      stream: true,
      stream_options: { include_usage: true },
    });
    const merged = { continuous_usage_stats: true, include_usage: true };
    expect(JSON.parse(rewrite('{"model":"m","stream":true,"stream_options":{"continuous_usage_stats":true}}', 'u', merged))).toEqual({
      model: 'u',
      stream: true,
      stream_options: merged,
    });
  });

  it('gives what re-serialising the parsed body would, for bodies of every value kind', () => {
    const bodies = [
      { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'a]b}c"d\\' }] }], n: 2, stop: null, logit_bias: { '50256': -100 } },
      { temperature: 0, model: 'm', tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { a: { type: ['string', 'null'] } } } } }] },
      { model: 'm', input: [[1, 2, 3], [4, 5]], encoding_format: 'float', user: '\u2028\u{1F600}' },
      { model: 'm', empty: {}, list: [], deep: [[[[{}]]]], flag: true, off: false, number: -1.5e-7 },
    ];
    for (const body of bodies) {
      for (const text of [JSON.stringify(body), JSON.stringify(body, null, 2)]) {
        expect(JSON.parse(rewrite(text, 'upstream'))).toEqual({ ...body, model: 'upstream' });
      }
    }
  });
});
