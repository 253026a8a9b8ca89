import type { Deployment } from '@dosrouter/shared';
import type { AttemptShape } from '../proxy/ingress/ingress.js';
import { OPENAI_DIALECT } from '../upstream/answer-dialect.js';
import { continuationBody, type ContinuationMode } from './continuation-request.js';
import { ContinuationRewriter } from './continuation-events.js';
import { DeliveredStream, type Transcript } from './delivered-stream.js';

/** Why a stream that had started to answer broke: a lost connection, no chunk for `idleMs`, a malformed event. */
export type BreakCause = 'cut' | 'stall' | 'malformed';

/** One break that another deployment took over from. */
export interface StreamBreak {
  readonly deployment: string;
  readonly cause: BreakCause;
}

/**
 * The recovery of one chat stream (`recovery: on`, one choice): keeps what reached the client and, when the stream
 * breaks after text reached it, lets the next attempt continue the answer in the same client stream. The proxy
 * handler asks it for each continuation's body; the relay hands it what it forwarded and, on a continuation, relays
 * through its rewriter. Without a break it costs one array push per forwarded chunk.
 */
export class StreamRecovery {
  readonly delivered: DeliveredStream;
  readonly breaks: StreamBreak[] = [];
  private transcriptAtBreak: Transcript | undefined;
  private readonly refusedPrefill = new Set<string>();
  /** Every continuation replays the request (never a prefill): a shared stream taken over by a follower. */
  private replayOnly = false;

  constructor(
    private readonly body: Readonly<Record<string, unknown>>,
    /** The client asked for stream usage: a continued stream ends with one usage chunk summing every attempt. */
    readonly includeUsage: boolean,
    maxBytes: number,
    delivered?: DeliveredStream,
  ) {
    this.delivered = delivered ?? new DeliveredStream(maxBytes);
  }

  /**
   * The recovery of a stream whose first part the client got from a shared answer that broke (decision 0019): it
   * starts continuing, from `transcript`, by asking for the same answer again (`replay`: the request is deterministic,
   * so the new answer repeats the delivered text, which is skipped). `delivered` goes on keeping what the client is
   * sent, for a later break.
   */
  static resuming(body: Readonly<Record<string, unknown>>, includeUsage: boolean, delivered: DeliveredStream, transcript: Transcript): StreamRecovery {
    const recovery = new StreamRecovery(body, includeUsage, 0, delivered);
    recovery.transcriptAtBreak = transcript;
    recovery.replayOnly = true;
    return recovery;
  }

  /** True once a break was taken over: the client's stream is open, its headers and first text sent. */
  get continuing(): boolean {
    return this.transcriptAtBreak !== undefined;
  }

  get transcript(): Transcript | undefined {
    return this.transcriptAtBreak;
  }

  /**
   * The stream broke on `deployment`: whether the answer can be continued elsewhere (text only, one choice, no tool
   * call, no finish yet). When it cannot, the reason; the caller ends the stream with the error event.
   */
  broke(deployment: Deployment, cause: BreakCause): { readonly continued: true } | { readonly continued: false; readonly reason: string } {
    const transcript = this.delivered.transcript();
    if (transcript.unrecoverable !== undefined) return { continued: false, reason: transcript.unrecoverable };
    this.transcriptAtBreak = transcript;
    this.breaks.push({ deployment: deployment.id, cause });
    return { continued: true };
  }

  /** How `deployment` is asked to continue: by prefill, unless it refused one in this request. */
  modeFor(deployment: Deployment): ContinuationMode {
    return this.replayOnly || this.refusedPrefill.has(deployment.id) ? 'replay' : 'prefill';
  }

  /** `deployment` answered the prefill with a refusal: it is asked again without it. */
  prefillRefused(deployment: Deployment): void {
    this.refusedPrefill.add(deployment.id);
  }

  /** The continuation's request body for `deployment`. */
  bodyFor(deployment: Deployment): string {
    const transcript = this.requireTranscript();
    return continuationBody(this.body, deployment.upstreamModel, this.modeFor(deployment), transcript.text);
  }

  /**
   * A continuation attempt on an OpenAI-compatible `deployment`: its body asks for usage itself (every attempt is
   * charged from its own), and the continuation relay, not the scanner's flag, decides what the client gets of it.
   */
  shapeFor(deployment: Deployment): AttemptShape {
    return { operation: 'chat/completions', body: this.bodyFor(deployment), dropUsageOnlyChunk: false, dialect: OPENAI_DIALECT, writer: (response) => response };
  }

  /** A rewriter for one continuation attempt's events. */
  rewriterFor(deployment: Deployment): ContinuationRewriter {
    return new ContinuationRewriter(this.requireTranscript(), this.modeFor(deployment));
  }

  private requireTranscript(): Transcript {
    if (!this.transcriptAtBreak) throw new Error('no break to continue');
    return this.transcriptAtBreak;
  }
}
