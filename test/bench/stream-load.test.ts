import { startSimulator, type Simulator } from '@dosrouter/provider-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SseEventSplitter, StreamRecord, summarize, tallyStreams } from '../../scripts/bench/stream-accounting.mjs';
import { runStreamLoad } from '../../scripts/bench/stream-load.mjs';

const content = (text: string): string => `{"id":"c","choices":[{"index":0,"delta":{"content":"${text}"},"finish_reason":null}]}`;
const ROLE = '{"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}';
const FINISH = '{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}';

describe('SseEventSplitter', () => {
  it('returns each event once its blank line has arrived, across chunk boundaries', () => {
    const splitter = new SseEventSplitter();

    expect(splitter.push('data: one\n\ndata: tw')).toEqual(['one']);
    expect(splitter.pendingLength).toBe('data: tw'.length);
    expect(splitter.push('o\n')).toEqual([]);
    expect(splitter.push('\ndata: three\n\ndata: [DONE]\n\n')).toEqual(['two', 'three', '[DONE]']);
    expect(splitter.pendingLength).toBe(0);
  });
});

describe('StreamRecord', () => {
  it('keeps (gap − interval) between content events only, and counts every event', () => {
    const gaps: number[] = [];
    const record = new StreamRecord(1_000, 100, gaps);
    record.onHeaders(200, undefined);

    record.onChunk(1_004, [ROLE, content('a')]);
    record.onChunk(1_104, [content('b')]);
    record.onChunk(1_230, [content('c')]);
    record.onChunk(1_320, [content('d'), FINISH, '[DONE]']);

    expect(record.firstByteMs).toBe(4);
    expect(record.events).toBe(7);
    expect(gaps).toEqual([0, 26, -10]);
    expect(record.outcome({})).toBe('completed');
  });

  it('tells why a stream failed', () => {
    const outcomeOf = (feed: (record: StreamRecord) => void, ending = {}): string => {
      const record = new StreamRecord(0, 100, []);
      feed(record);
      return record.outcome(ending);
    };

    expect(outcomeOf((record) => record.onHeaders(429, '1'))).toBe('status 429');
    expect(outcomeOf((record) => (record.onHeaders(200, undefined), record.onChunk(1, ['{"error":{"message":"cut"}}', '[DONE]'])))).toBe('error event');
    expect(outcomeOf((record) => (record.onHeaders(200, undefined), record.onChunk(1, [content('a')])))).toBe('ended without [DONE]');
    expect(outcomeOf((record) => record.onHeaders(200, undefined), { transportError: 'ECONNRESET' })).toBe('broken stream: ECONNRESET');
    expect(outcomeOf(() => undefined, { transportError: 'EMFILE' })).toBe('no answer: EMFILE');
    expect(outcomeOf((record) => (record.onHeaders(200, undefined), record.onChunk(1, [content('a')])), { timedOut: true })).toBe('timed out mid-stream');
    expect(outcomeOf(() => undefined, { timedOut: true })).toBe('timed out: no answer');
  });
});

describe('tallyStreams', () => {
  it('sums outcomes, refusals with retry-after, and percentiles by nearest rank', () => {
    const completed = new StreamRecord(0, 100, []);
    completed.onHeaders(200, undefined);
    completed.onChunk(5, [content('a'), '[DONE]']);
    const refused = new StreamRecord(0, 100, []);
    refused.onHeaders(429, '2');
    const refusedBare = new StreamRecord(0, 100, []);
    refusedBare.onHeaders(503, undefined);

    const tally = tallyStreams([completed, refused, refusedBare], ['completed', 'status 429', 'status 503'], [3, 1, 2]);

    expect(tally).toMatchObject({
      streams: 3,
      completed: 1,
      failed: 2,
      failures: { 'status 429': 1, 'status 503': 1 },
      events: 2,
      refused: 2,
      refusedWithRetryAfter: 1,
      timeToFirstByteMs: { samples: 1, p50: 5, p99: 5 },
      addedGapMs: { samples: 3, p50: 2, p99: 3, max: 3 },
    });
    expect(summarize(Array.from({ length: 100 }, (_, index) => index + 1))).toEqual({ samples: 100, p50: 50, p99: 99, max: 100 });
  });
});

describe('runStreamLoad against the provider simulator', () => {
  let simulator: Simulator;

  beforeAll(async () => {
    simulator = await startSimulator({
      models: [
        { id: 'sim-stream', interTokenDelayMs: 20, outputTokens: 5 },
        { id: 'sim-long', interTokenDelayMs: 20, outputTokens: 60 },
      ],
    });
  });

  afterAll(async () => {
    await simulator.close();
  });

  const load = (streams: number) =>
    runStreamLoad({
      url: `${simulator.baseUrl}/chat/completions`,
      body: JSON.stringify({ model: 'sim-stream', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] }),
      streams,
      intervalMs: 20,
      timeoutSeconds: 20,
    });

  it('counts every stream and event, with one gap per pair of content events', async () => {
    const result = await load(30);

    expect(result).toMatchObject({ streams: 30, completed: 30, failed: 0, peakOpen: 30 });
    // role, 5 content events, finish, usage, [DONE]
    expect(result.events).toBe(30 * 9);
    expect(result.addedGapMs.samples).toBe(30 * 4);
    expect(result.timeToFirstByteMs.samples).toBe(30);
  });

  it('counts refused and cut streams as failed, with the refusal retry-after', async () => {
    simulator.injectFaults({ kind: 'rate_limit', count: 2 });
    simulator.injectFaults({ kind: 'stream_cut', count: 1 });

    const result = await load(10);

    expect(result).toMatchObject({ streams: 10, completed: 7, failed: 3, refused: 2, refusedWithRetryAfter: 2 });
    expect(result.failures['status 429']).toBe(2);
    expect(Object.keys(result.failures).filter((reason) => reason !== 'status 429')).toHaveLength(1);
  });

  it('counts the events, gaps and CPU of a steady window on its own clock', async () => {
    // 60 content events 20 ms apart: 1.2 s streams, all open at once; the window is 0.3 s to 0.9 s of them.
    const result = await runStreamLoad({
      url: `${simulator.baseUrl}/chat/completions`,
      body: JSON.stringify({ model: 'sim-long', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      streams: 10,
      intervalMs: 20,
      timeoutSeconds: 20,
      window: { fromSeconds: 0.3, toSeconds: 0.9, pids: [process.pid] },
    });

    expect(result.completed).toBe(10);
    const window = result.window!;
    expect(window.seconds).toBeGreaterThanOrEqual(0.5);
    // About 10 streams × 30 events; a loaded machine delays events, it does not add any.
    expect(window.events).toBeGreaterThan(0);
    expect(window.events).toBeLessThan(result.events);
    expect(window.addedGapMs.samples).toBeGreaterThan(0);
    expect(window.addedGapMs.samples).toBeLessThan(result.addedGapMs.samples);
    expect(window.userSeconds + window.systemSeconds).toBeGreaterThanOrEqual(0);
  });
});
