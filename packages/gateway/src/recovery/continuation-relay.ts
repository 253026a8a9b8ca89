import type { ServerResponse } from 'node:http';
import { GatewayError } from '@dosrouter/shared';
import { totalsOf } from '../proxy/request-outcome.js';
import type { AttemptInput } from '../upstream/attempt.js';
import { RelaySink } from '../upstream/relay-sink.js';
import { SseScanner } from '../upstream/sse-scanner.js';
import { endWithErrorEvent } from '../upstream/stream-relay.js';
import { fromTransportError, malformedAnswer, streamInterrupted, type Deadline } from '../upstream/upstream-error.js';
import type { RelayedUpstream } from '../upstream/anthropic-egress.js';
import type { ContinuationRewriter } from './continuation-events.js';
import { eventData } from './delivered-stream.js';
import { usageChunkData } from './merged-usage.js';
import type { BreakCause, StreamRecovery } from './stream-recovery.js';

/**
 * Relays one continuation attempt into the client's open stream, through its rewriter (a rare path: it decodes and
 * re-serialises every event). Until the first new text is sent, a failure is the attempt's alone (the next one
 * continues instead, unseen); after it, a break is handed to recovery again. A complete continuation ends the
 * stream as one answer: the usage of every attempt in one usage chunk (when the client asked for usage), the
 * attempts in a last comment event and a trailer, then `[DONE]`.
 */
export class ContinuationRelay extends RelaySink {
  private readonly scanner: SseScanner;
  private readonly recovery: StreamRecovery;
  private readonly resumeUpstream = (): void => this.upstream.resume();

  constructor(
    input: AttemptInput,
    private readonly rewriter: ContinuationRewriter,
    upstream: RelayedUpstream,
    private readonly response: ServerResponse,
    timedOut: () => Deadline,
    firstTokenArrived: () => void,
  ) {
    super(input, upstream, timedOut, firstTokenArrived);
    if (!input.recovery) throw new Error('a continuation without its stream recovery');
    this.recovery = input.recovery;
    this.scanner = new SseScanner(false, { holdDone: true, onEvent: (data) => this.estimate.add(data) });
  }

  data(chunk: Buffer): void {
    if (this.finished) return;
    const events = this.scanner.push(chunk);
    if (this.scanner.malformedSeen) return this.failed(malformedAnswer(this.input.deployment.id, 'a malformed stream event'), 'malformed');
    if (events === undefined) return;
    let out = '';
    for (const data of eventData(events.toString('utf8'))) {
      const rewritten = this.rewriter.rewrite(data);
      if ('fail' in rewritten) {
        this.settleUsage();
        const error = continuationRefused(this.input.deployment.id, rewritten.fail);
        this.finish({ ok: false, error });
        this.upstream.abort(error);
        return;
      }
      for (const sent of rewritten.send) out += `data: ${sent}\n\n`;
    }
    if (out === '') return;
    if (this.rewriter.tokenSent) {
      this.firstTokenArrived();
      this.input.context.firstToken();
    }
    this.recovery.delivered.add(out);
    if (!this.response.write(out)) {
      this.upstream.pause();
      this.response.once('drain', this.resumeUpstream);
    }
  }

  end(): void {
    if (this.finished) return;
    if (!this.rewriter.finished || this.scanner.errorSeen) return this.failed(streamInterrupted(this.input.deployment.id), 'cut');
    this.settleUsage();
    const { context } = this.input;
    this.commitThen(() => {
      const totals = totalsOf(context.outcome);
      let ending = '';
      if (this.recovery.includeUsage && this.recovery.transcript) {
        const usage = { promptTokens: totals.promptTokens, completionTokens: totals.completionTokens, totalTokens: totals.promptTokens + totals.completionTokens };
        ending += `data: ${usageChunkData(this.recovery.transcript, usage)}\n\n`;
      }
      const attempts = attemptsSummary(context.outcome.attempts, this.recovery.breaks);
      ending += `: x-dosrouter-attempts: ${attempts}\n\n`;
      if (!this.response.destroyed) {
        this.response.addTrailers({ 'x-dosrouter-attempts': attempts });
        this.response.end(`${ending}data: [DONE]\n\n`);
      }
    });
  }

  error(error: Error): void {
    if (this.finished) return;
    const { context, controller, deployment } = this.input;
    const deadline = this.timedOut();
    this.settleUsage();
    if (controller.signal.aborted && deadline === undefined) {
      // The client went away: nothing more to send, nothing to continue.
      context.failed('client_closed');
      return this.finish({ ok: true });
    }
    const failure = fromTransportError(error, deployment.id, deadline);
    if (deadline !== undefined) {
      if (!this.rewriter.tokenSent) return this.finish({ ok: false, error: failure });
      endWithErrorEvent(this.response, context, failure);
      return this.finish({ ok: true });
    }
    this.failed(failure.status === 504 ? failure : streamInterrupted(deployment.id), failure.status === 504 ? 'stall' : 'cut');
  }

  /** The continuation failed: unseen before its first new text (the next attempt continues instead), a new break after. */
  private failed(error: GatewayError, cause: BreakCause): void {
    this.settleUsage();
    if (!this.rewriter.tokenSent) {
      this.finish({ ok: false, error });
    } else if (this.recovery.broke(this.input.deployment, cause).continued) {
      this.input.context.attemptBroke(cause);
      this.finish({ ok: false, error, broke: cause });
    } else {
      endWithErrorEvent(this.response, this.input.context, error);
      this.finish({ ok: true });
    }
    this.upstream.abort(error);
  }

  private settleUsage(): void {
    this.settleUsageOf(this.scanner.usage, this.scanner.forwardedBytes > 0);
  }

  protected override stop(): void {
    super.stop();
    this.response.off('drain', this.resumeUpstream);
  }
}

/** `3; recovered=sim/a:cut,spare/a:stall`: the calls made and the breaks continued, for the last event and trailer. */
export function attemptsSummary(attempts: number, breaks: ReadonlyArray<{ readonly deployment: string; readonly cause: string }>): string {
  return `${attempts}; recovered=${breaks.map((entry) => `${entry.deployment}:${entry.cause}`).join(',')}`;
}

/** The continuation answered, but not with what can follow the delivered text: the stream ends with this error. */
function continuationRefused(deploymentId: string, why: string): GatewayError {
  return new GatewayError(`The stream could not be continued on ${deploymentId}: ${why}.`, {
    status: 502,
    code: 'upstream_continuation_mismatch',
    type: 'server_error',
    retryable: false,
  });
}
