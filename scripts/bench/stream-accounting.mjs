// The stream load generator's bookkeeping, free of I/O so that a test can feed it by hand: splitting a response body
// into SSE events as it arrives, and summing what each stream saw into the figures the report prints.

/**
 * Splits an SSE body into its `data:` payloads as chunks arrive; an event split across two chunks is held until its
 * blank line comes. Returns the payloads of the events completed by `chunk`, in order.
 */
export class SseEventSplitter {
  #pending = '';

  push(chunk) {
    const text = this.#pending + chunk;
    const lastBoundary = text.lastIndexOf('\n\n');
    if (lastBoundary === -1) {
      this.#pending = text;
      return [];
    }
    this.#pending = text.slice(lastBoundary + 2);
    const payloads = [];
    for (const block of text.slice(0, lastBoundary).split('\n\n')) {
      for (const line of block.split('\n')) {
        if (line.startsWith('data: ')) payloads.push(line.slice(6));
        else if (line.startsWith('data:')) payloads.push(line.slice(5));
      }
    }
    return payloads;
  }

  /** Bytes received after the last complete event: a stream that ends with some is cut mid-event. */
  get pendingLength() {
    return this.#pending.length;
  }
}

/**
 * A chat.completion.chunk that carries answer text, as opposed to the role chunk, the finish chunk, the usage chunk
 * and [DONE]. The simulator sends one of these per interval, so the gaps between them are what a proxy can stretch.
 */
export function isContentEvent(payload) {
  return payload.includes('"delta":{"content":');
}

/** An OpenAI error event inside a 200 stream: the stream failed even though its status said otherwise. */
export function isErrorEvent(payload) {
  return payload.startsWith('{"error"');
}

/**
 * What one stream saw, fed event by event. `intervalMs` is the simulator's configured gap between content events;
 * every gap after the first content event is kept as (gap − interval): the time the path to the client added (or,
 * negative, caught up after an earlier delay).
 */
export class StreamRecord {
  constructor(startedAt, intervalMs, gapSink) {
    this.startedAt = startedAt;
    this.intervalMs = intervalMs;
    this.gapSink = gapSink;
    this.status = undefined;
    this.retryAfter = undefined;
    this.firstByteMs = undefined;
    this.events = 0;
    this.sawDone = false;
    this.sawError = false;
    this.lastContentAt = undefined;
  }

  onHeaders(status, retryAfter) {
    this.status = status;
    this.retryAfter = retryAfter;
  }

  onChunk(now, payloads) {
    if (this.firstByteMs === undefined) this.firstByteMs = now - this.startedAt;
    for (const payload of payloads) {
      this.events += 1;
      if (payload === '[DONE]') this.sawDone = true;
      else if (isErrorEvent(payload)) this.sawError = true;
      else if (isContentEvent(payload)) {
        if (this.lastContentAt !== undefined) this.gapSink.push(now - this.lastContentAt - this.intervalMs);
        this.lastContentAt = now;
      }
    }
  }

  /**
   * How the stream ended: 'completed' (a 200 whose [DONE] arrived without an error event), or why it failed.
   * `transportError` is the error code of a request that broke (ECONNRESET, EMFILE…), `timedOut` a stream the
   * generator gave up on.
   */
  outcome({ transportError, timedOut, cutMidEvent }) {
    if (this.status !== undefined && this.status !== 200) return `status ${this.status}`;
    if (this.sawError) return 'error event';
    if (this.sawDone && !cutMidEvent && transportError === undefined) return 'completed';
    if (timedOut) return this.status === undefined ? 'timed out: no answer' : 'timed out mid-stream';
    if (transportError !== undefined) return `${this.status === undefined ? 'no answer' : 'broken stream'}: ${transportError}`;
    return 'ended without [DONE]';
  }
}

/** The p-th percentile (0–100) of `values` by nearest rank; undefined for none. Sorts `values` in place. */
export function percentile(sortedValues, p) {
  if (sortedValues.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * sortedValues.length);
  return sortedValues[Math.min(sortedValues.length, Math.max(1, rank)) - 1];
}

/** p50, p99 and max of a list of milliseconds, rounded to microseconds; `samples` says how many there were. */
export function summarize(values) {
  const sorted = Float64Array.from(values).sort();
  const round = (value) => (value === undefined ? undefined : Math.round(value * 1000) / 1000);
  return {
    samples: sorted.length,
    p50: round(percentile(sorted, 50)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.length === 0 ? undefined : sorted[sorted.length - 1]),
  };
}

/**
 * The run's totals from every stream's record and outcome: completed and failed counts with the reasons, events
 * received, time to first byte, the added gaps, and for refused requests (429/503) how many carried retry-after.
 */
export function tallyStreams(records, outcomes, gaps) {
  const failures = {};
  let completed = 0;
  let events = 0;
  let refused = 0;
  let refusedWithRetryAfter = 0;
  const firstByte = [];
  records.forEach((record, index) => {
    const outcome = outcomes[index];
    events += record.events;
    if (record.firstByteMs !== undefined && record.status === 200) firstByte.push(record.firstByteMs);
    if (outcome === 'completed') completed += 1;
    else failures[outcome] = (failures[outcome] ?? 0) + 1;
    if (record.status === 429 || record.status === 503) {
      refused += 1;
      if (record.retryAfter !== undefined) refusedWithRetryAfter += 1;
    }
  });
  return {
    streams: records.length,
    completed,
    failed: records.length - completed,
    failures,
    events,
    refused,
    refusedWithRetryAfter,
    timeToFirstByteMs: summarize(firstByte),
    addedGapMs: summarize(gaps),
  };
}
