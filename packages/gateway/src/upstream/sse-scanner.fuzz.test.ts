import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../shared/src/test-support/seeded-random.js';
import { DeliveredStream } from '../recovery/delivered-stream.js';
import { ReferenceDeliveredStream } from '../test-support/reference/delivered-stream-before-faaa0c5.js';
import { ReferenceSseScanner } from '../test-support/reference/sse-scanner-before-faaa0c5.js';
import { SseScanner } from './sse-scanner.js';

/**
 * Differential tests of the per-event fast paths of faaa0c5 (SseScanner `pushOneEvent`, DeliveredStream.add's byte
 * loop) against copies of the code before them: generated OpenAI chat-completion streams (content with quotes,
 * backslashes, unicode and key names, tool calls, usage and error chunks, comments, `event:`/`id:` lines, `[DONE]`,
 * malformed data, `data:` with and without a space, trailing blanks, LF/CRLF/CR endings) cut into chunks at random,
 * most of them one event per chunk so the fast path runs. Deterministic: a fixed seed, a bounded number of streams.
 */

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const chance = (random: Random, p: number): boolean => random() < p;

/** Pieces of answer text that stress the byte scans: quotes, backslashes, multi-byte UTF-8, key names as text. */
const TEXT_PIECES = [
  'Hello',
  ' world',
  '"',
  '\\',
  '\\"',
  '"\\',
  'é',
  '日本語',
  '😀',
  '\n',
  '\r\n',
  '\t',
  '"finish_reason":"stop"',
  '"finish_reason": "content_filter"',
  '"usage":{"prompt_tokens":1}',
  '"error":{"message":"x"}',
  '"error":"boom"',
  '"content":"inner"',
  '"tool_calls":[{',
  '"refusal":"no"',
  'data: {}',
  '\n\ndata: [DONE]\n\n',
  '{',
  '}',
  ' ',
  '',
];

function text(random: Random): string {
  let out = '';
  const pieces = 1 + Math.floor(random() * 4);
  for (let index = 0; index < pieces; index += 1) out += pick(random, TEXT_PIECES);
  return out;
}

const HEAD = '"id":"chatcmpl-1","object":"chat.completion.chunk","created":1733450000,"model":"gpt-4o-mini","system_fingerprint":"fp_1"';
const USAGE = '{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19,"prompt_tokens_details":{"cached_tokens":3}}';

/** One event's JSON (or other data), as an upstream would write it on one line. */
function eventData(random: Random): string {
  const s = (value: string): string => JSON.stringify(value);
  const finish = chance(random, 0.85) ? 'null' : s(pick(random, ['stop', 'length', 'content_filter', 'tool_calls']));
  const usageTail = pick(random, ['', ',"usage":null', `,"usage":${USAGE}`]);
  switch (Math.floor(random() * 20)) {
    case 0:
      return `{${HEAD},"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]${usageTail}}`;
    case 1:
      return `{${HEAD},"choices":[{"index":0,"delta":{"reasoning_content":${s(text(random))}},"finish_reason":null}]}`;
    case 2:
      return `{${HEAD},"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get","arguments":${s(text(random))}}}]},"finish_reason":${finish}}]}`;
    case 3:
      return `{${HEAD},"choices":[],"usage":${USAGE}}`; // the usage-only chunk
    case 4:
      return `{${HEAD},"choices":[{"index":0,"delta":{},"finish_reason":${finish}}],"usage":${USAGE}}`;
    case 5:
      return pick(random, [
        '{"error":{"message":"upstream overloaded","type":"server_error","code":503}}',
        '{"error":"Input validation error"}',
        '{"error": {"message": "spaced"}}',
        '{"error":null}',
        '{"object":"error","message":"x","error":{"message":"nested"}}',
      ]);
    case 6:
      return pick(random, [
        `{"a":1}{"usage":${USAGE}}`, // starts with { and ends with }, two objects
        `{"a":1}{"error":"x"}`,
        '{"choices":[{"delta":{"content":"x"}}]',
        '{}',
        '{ }',
        '{"usage":{',
        '{"finish_reason":"stop"}',
        '{"finish_reason" : "content_filter" }',
      ]);
    case 7:
      return pick(random, ['[DONE]', '', 'not json', '[1,2]', '"text"', '{', '}', '{x', 'x}']);
    case 8:
      return `{${HEAD},"choices":[{"index":0,"delta":{"content":${s(text(random))}},"finish_reason":${finish}}],"usage":{"nested":{"usage":{"prompt_tokens":1}}}}`;
    case 9:
      // Spaced JSON, as Python servers write it.
      return `{"id": "c1", "choices": [{"index": 0, "delta": {"content": ${s(text(random))}}, "finish_reason": ${finish}}], "usage": ${chance(random, 0.5) ? 'null' : USAGE}}`;
    case 10:
      // A raw control character inside the JSON (invalid, but bytes an upstream can send).
      return `{"choices":[{"delta":{"content":"a${pick(random, ['\r', '\t', '\u0000', '\u007f'])}b"}}]}`;
    default:
      return `{${HEAD},"choices":[{"index":0,"delta":{"content":${s(text(random))}},"logprobs":null,"finish_reason":${finish}}]${usageTail}}`;
  }
}

/** One whole event, with the field spelling, blanks, extra fields and line endings varied. */
function event(random: Random, eol: string): string {
  const roll = random();
  if (roll < 0.05) return `: ${pick(random, ['keep-alive', 'OPENROUTER PROCESSING', ''])}${eol}${eol}`;
  const data = eventData(random);
  const field = chance(random, 0.8) ? 'data: ' : pick(random, ['data:', 'data:  ', 'data:\t', 'data: \t']);
  const trailing = chance(random, 0.85) ? '' : pick(random, [' ', '\t', '  ', ' \t ']);
  let lines = `${field}${data}${trailing}${eol}`;
  if (roll < 0.1) lines = `event: ${pick(random, ['message', 'error'])}${eol}${lines}`;
  else if (roll < 0.14) lines = `${lines}id: ${Math.floor(random() * 100)}${eol}`;
  else if (roll < 0.17) lines = `${lines}retry: 1000${eol}`;
  else if (roll < 0.2 && data.length > 4) {
    // The same data over two data: lines (pretty-printed JSON is sent so).
    const cut = 1 + Math.floor(random() * (data.length - 2));
    lines = `data: ${data.slice(0, cut)}${eol}data: ${data.slice(cut)}${eol}`;
  }
  return `${lines}${eol}`;
}

function stream(random: Random): Buffer[] {
  const streamEol = pick(random, ['\n', '\n', '\n', '\r\n', '\r']);
  const mixed = chance(random, 0.1);
  const events: Buffer[] = [];
  // A first token early, so that most of the stream runs after it (where the fast path is).
  events.push(Buffer.from(`data: {${HEAD},"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n`));
  if (chance(random, 0.9)) events.push(Buffer.from(`data: {${HEAD},"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n`));
  const count = 2 + Math.floor(random() * 30);
  for (let index = 0; index < count; index += 1) {
    const eol = mixed ? pick(random, ['\n', '\r\n', '\r']) : streamEol;
    events.push(Buffer.from(event(random, eol)));
  }
  if (chance(random, 0.7)) events.push(Buffer.from(`data: [DONE]${streamEol}${streamEol}`));
  return events;
}

/** The stream's bytes as an upstream might deliver them: mostly an event a chunk, sometimes cut or joined anywhere. */
function chunks(random: Random, events: Buffer[]): Buffer[] {
  const style = random();
  const all = Buffer.concat(events);
  if (style < 0.5) {
    // One event per chunk, now and then an empty chunk or two events together.
    const out: Buffer[] = [];
    for (let index = 0; index < events.length; index += 1) {
      if (chance(random, 0.05)) out.push(Buffer.alloc(0));
      if (chance(random, 0.1) && index + 1 < events.length) {
        out.push(Buffer.concat([events[index]!, events[index + 1]!]));
        index += 1;
      } else out.push(events[index]!);
    }
    return out;
  }
  if (style < 0.8) {
    // Events, with a cut at a random byte now and then (splitting multi-byte characters too).
    const out: Buffer[] = [];
    let carry = Buffer.alloc(0);
    for (const bytes of events) {
      const whole = Buffer.concat([carry, bytes]);
      if (chance(random, 0.2)) {
        const cut = Math.floor(random() * (whole.length + 1));
        out.push(whole.subarray(0, cut));
        carry = whole.subarray(cut);
      } else {
        out.push(whole);
        carry = Buffer.alloc(0);
      }
    }
    if (carry.length > 0) out.push(carry);
    return out;
  }
  // Arbitrary cuts.
  const out: Buffer[] = [];
  for (let at = 0; at < all.length; ) {
    const size = Math.min(all.length - at, Math.floor(random() * 300));
    out.push(all.subarray(at, at + size));
    at += size;
  }
  return out;
}

/** Everything a caller can see of a scanner after a push, the pending bytes included. */
function observed(scanner: SseScanner | ReferenceSseScanner): Record<string, unknown> {
  const pending = (scanner as unknown as { pending: Buffer | undefined }).pending;
  return {
    firstTokenSeen: scanner.firstTokenSeen,
    finishSeen: scanner.finishSeen,
    doneSeen: scanner.doneSeen,
    errorSeen: scanner.errorSeen,
    contentFilterSeen: scanner.contentFilterSeen,
    malformedSeen: scanner.malformedSeen,
    malformedEvents: scanner.malformedEvents,
    usage: scanner.usage,
    forwardedBytes: scanner.forwardedBytes,
    complete: scanner.complete,
    pending: pending?.toString('latin1'),
  };
}

const STREAMS = 1000;

describe('SseScanner fast path against the scanner before it (differential)', () => {
  it('forwards the same bytes and reads the same state on generated streams and chunkings', () => {
    const random = seededRandom(0x5eed0018);
    let fastPathEvents = 0;
    // What the fast path itself decided, so that the test shows it met each case.
    const fastPath = { dropped: 0, usage: 0, error: 0, contentFilter: 0 };
    let pushes = 0;
    for (let run = 0; run < STREAMS; run += 1) {
      const parts = chunks(random, stream(random));
      const dropUsageOnlyChunk = chance(random, 0.5);
      const holdDone = chance(random, 0.3);
      const skipMalformed = chance(random, 0.5);
      const seenFast: string[] = [];
      const seenReference: string[] = [];
      const fast = new SseScanner(dropUsageOnlyChunk, { holdDone, skipMalformed, onEvent: (data) => seenFast.push(data.toString('latin1')) });
      const reference = new ReferenceSseScanner(dropUsageOnlyChunk, { holdDone, skipMalformed, onEvent: (data) => seenReference.push(data.toString('latin1')) });
      // Count the chunks the fast path answered, so that the test shows it ran.
      const inner = fast as unknown as { pushOneEvent: (chunk: Buffer) => unknown };
      const pushOneEvent = inner.pushOneEvent.bind(fast);
      inner.pushOneEvent = (chunk: Buffer) => {
        const before = { usage: fast.usage, errorSeen: fast.errorSeen, contentFilterSeen: fast.contentFilterSeen };
        const result = pushOneEvent(chunk);
        if (typeof result !== 'symbol') {
          fastPathEvents += 1;
          if (result === undefined) fastPath.dropped += 1;
          if (fast.usage !== before.usage) fastPath.usage += 1;
          if (fast.errorSeen !== before.errorSeen) fastPath.error += 1;
          if (fast.contentFilterSeen !== before.contentFilterSeen) fastPath.contentFilter += 1;
        }
        return result;
      };
      const context = (index: number): string =>
        `run ${run} chunk ${index} (drop ${dropUsageOnlyChunk}, holdDone ${holdDone}, skipMalformed ${skipMalformed}): ${JSON.stringify(parts.map((part) => part.toString('latin1')))}`;
      for (const [index, part] of parts.entries()) {
        pushes += 1;
        // Each scanner gets its own copy: neither may rely on the other's not touching the bytes.
        const told = seenFast.length;
        const got = { forwarded: fast.push(Buffer.from(part))?.toString('latin1'), ...observed(fast), told: seenFast.slice(told) };
        const want = { forwarded: reference.push(Buffer.from(part))?.toString('latin1'), ...observed(reference), told: seenReference.slice(told) };
        // The message (every chunk of the stream) is built only on a difference: building it per push costs seconds.
        if (!isDeepStrictEqual(got, want)) expect(got, context(index)).toEqual(want);
      }
    }
    // The fast path has to have carried a good share of the chunks for the comparison to mean anything.
    expect(fastPathEvents).toBeGreaterThan(pushes / 8);
    expect(fastPath.dropped).toBeGreaterThan(10);
    expect(fastPath.usage).toBeGreaterThan(10);
    expect(fastPath.error).toBeGreaterThan(10);
    expect(fastPath.contentFilter).toBeGreaterThan(10);
  });

  it('agrees on hand-written edge cases after the first token', () => {
    const first = `data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n`;
    const cases = [
      'data:{}\n\n', // exactly 9 bytes
      'data:{\n\n', // 8 bytes
      'data: {} \t\n\n',
      'data:\t{"a":1}\t \n\n',
      'data: {"a":1}\r\n\n',
      'data: {"a":1}\n\r\n\n',
      'data: {"a":"\r"}\n\n',
      'data: {"a":1}\n\ndata: {"b":2}\n\n',
      'data: {"a":1}\nid: 1\n\n',
      'data: {"a":1}\n\n\n',
      'data: [DONE]\n\n',
      'data: \n\n',
      'data:    \n\n',
      ': {"a":1}\n\n',
      'data: {"a":1}{"usage":{"prompt_tokens":1}}\n\n',
      `data: {"choices":[],"usage":${USAGE}}\n\n`,
      `data: {"choices":[{"delta":{"content":"\\"usage\\":{\\"prompt_tokens\\":5}"}}]}\n\n`,
      'data: {"error":"x"}\n\n',
      'data: {"error":{"message":"x"}}\n\n',
      'data: {"finish_reason":"content_filter"}\n\n',
      'data: {"a":"\\\\"}\n\n',
      'DATA: {"a":1}\n\n',
      'data {"a":1}\n\n',
      '\n\n',
    ];
    for (const dropUsageOnlyChunk of [false, true]) {
      for (const text of cases) {
        const fast = new SseScanner(dropUsageOnlyChunk);
        const reference = new ReferenceSseScanner(dropUsageOnlyChunk);
        for (const part of [first, text, text, first]) {
          expect(fast.push(Buffer.from(part))?.toString('latin1'), JSON.stringify(text)).toBe(reference.push(Buffer.from(part))?.toString('latin1'));
          expect(observed(fast), JSON.stringify(text)).toEqual(observed(reference));
        }
      }
    }
  });
});

/** The transcript, or the error reading it throws (raw control characters in a content string do not unescape). */
function transcriptOf(stream: DeliveredStream | ReferenceDeliveredStream): unknown {
  try {
    return stream.transcript();
  } catch (error) {
    return { threw: String(error) };
  }
}

describe('DeliveredStream.add against its version before the byte loop (differential)', () => {
  it('keeps the same transcript of generated streams, forwarded or cut anywhere', () => {
    const random = seededRandom(0xde11e7ed);
    for (let run = 0; run < 600; run += 1) {
      const events = stream(random);
      // What a relay forwards (whole events), or arbitrary cuts, or text chunks.
      const style = random();
      const parts = style < 0.6 ? events : chunks(random, events);
      const maxBytes = chance(random, 0.2) ? Math.floor(random() * 40) : 1 << 20;
      const asString = chance(random, 0.2);
      const fast = new DeliveredStream(maxBytes);
      const reference = new ReferenceDeliveredStream(maxBytes);
      for (const [index, part] of parts.entries()) {
        const input = asString ? part.toString('utf8') : part;
        fast.add(input);
        reference.add(input);
        const got = transcriptOf(fast);
        const want = transcriptOf(reference);
        if (!isDeepStrictEqual(got, want)) {
          const context = `run ${run} chunk ${index} (maxBytes ${maxBytes}, string ${asString}): ${JSON.stringify(parts.map((bytes) => bytes.toString('latin1')))}`;
          expect(got, context).toEqual(want);
        }
      }
    }
  });
});
