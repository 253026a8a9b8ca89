import type { TokenUsage } from '../usage/token-usage.js';
import { StreamTokenEstimate } from '../usage/estimate-usage.js';
import type { RelayedUpstream } from './anthropic-egress.js';
import type { AttemptInput, AttemptResult } from './attempt.js';
import type { BodySink } from './upstream-request.js';
import type { Deadline } from './upstream-error.js';

/**
 * What the stream relays ({@link StreamRelay}, and recovery's ContinuationRelay) share as the sink of a backend's
 * body: the attempt's promise (`run` pipes the backend into the relay and resolves once, through `finish` or
 * `commitThen`), the `finished` flag after which the backend's further bytes change nothing, and the usage of what
 * was streamed. Each relay keeps its own `data`, `end` and `error`: nothing here runs per event.
 */
export abstract class RelaySink implements BodySink {
  /** The attempt's result is decided: what the backend sends from here is ignored. */
  protected finished = false;
  /** Completion tokens counted as the events pass, for a backend that reports no usage or a stream that ends early. */
  protected readonly estimate = new StreamTokenEstimate();
  private resolve: (result: AttemptResult) => void = () => undefined;
  private reject: (error: unknown) => void = () => undefined;

  protected constructor(
    protected readonly input: AttemptInput,
    protected readonly upstream: RelayedUpstream,
    protected readonly timedOut: () => Deadline,
    protected readonly firstTokenArrived: () => void,
  ) {}

  /** Relays the whole stream; resolves when it is over (see {@link AttemptResult}). */
  run(): Promise<AttemptResult> {
    return new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.upstream.pipe(this);
    });
  }

  abstract data(chunk: Buffer): void;
  abstract end(): void;
  abstract error(error: Error): void;

  /**
   * The backend's usage when it reported one, or nothing streamed yet; else the gateway's count of what was streamed
   * (a broken stream is billed too), marked estimated.
   */
  protected settleUsageOf(reported: TokenUsage | undefined, streamed: boolean): void {
    const { context } = this.input;
    if (reported || !streamed) context.usageSettled(reported, false);
    else context.usageSettled(context.estimateUsage({ completionTokens: this.estimate.completionTokens() }), true);
  }

  /**
   * A complete stream: its usage record is committed before `ending` sends the last bytes (a replica killed after the
   * last byte lost nothing), then the attempt succeeds.
   */
  protected commitThen(ending: () => void): void {
    const { context } = this.input;
    context.upstreamEnded();
    this.stop();
    context.commitAnswer(200).then(() => {
      ending();
      this.resolve({ ok: true });
    }, this.reject);
  }

  protected finish(result: AttemptResult): void {
    this.stop();
    this.resolve(result);
  }

  /** Nothing the backend does from here changes the answer (an abort of it included, which it reports as an error). */
  protected stop(): void {
    this.finished = true;
  }
}
