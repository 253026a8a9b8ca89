import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { GatewayError } from '@dosrouter/shared';
import { totalsOf } from '../proxy/request-outcome.js';
import type { AttemptInput, AttemptResult, Deadline } from '../upstream/attempt.js';
import { endWithErrorEvent, malformedAnswer, settleStreamUsage, streamInterrupted } from '../upstream/attempt.js';
import { SseScanner } from '../upstream/sse-scanner.js';
import { fromTransportError } from '../upstream/upstream-error.js';
import type { ContinuationRewriter } from './continuation-events.js';
import { eventData } from './delivered-stream.js';
import { usageChunkData } from './merged-usage.js';

/** Event data kept for counting a continuation's tokens when its backend reports no usage. */
const COLLECT_STREAM_BYTES = 64 * 1024;

/**
 * Relays one continuation attempt into the client's open stream, through its rewriter. Until the first new text is
 * sent, a failure is the attempt's alone (the next one continues instead, unseen); after it, a break is handed to
 * recovery again. A complete continuation ends the stream as one answer: the usage of every attempt in one usage
 * chunk (when the client asked for usage), the attempts in a last comment event and a trailer, then `[DONE]`.
 */
export async function relayContinuation(
  input: AttemptInput,
  rewriter: ContinuationRewriter,
  upstream: Dispatcher.ResponseData,
  response: ServerResponse,
  timedOut: () => Deadline,
  firstTokenArrived: () => void,
): Promise<AttemptResult> {
  const { context, controller } = input;
  const recovery = input.recovery!;
  const deploymentId = input.deployment.id;
  const scanner = new SseScanner(false, { holdDone: true, collectBytes: COLLECT_STREAM_BYTES });
  const settleUsage = (): void => settleStreamUsage(context, scanner, scanner.dataBytes > 0);
  /** The continuation failed: unseen before its first new text (the next attempt continues), a new break after. */
  const failed = (error: GatewayError, cause: 'cut' | 'stall' | 'malformed'): AttemptResult => {
    upstream.body.destroy();
    settleUsage();
    if (!rewriter.tokenSent) return { ok: false, error };
    const verdict = recovery.broke(input.deployment, cause);
    if (!verdict.continued) {
      endWithErrorEvent(response, context, error);
      return { ok: true };
    }
    context.attemptBroke(cause);
    return { ok: false, error, broke: cause };
  };
  try {
    for await (const chunk of upstream.body as AsyncIterable<Buffer>) {
      const events = scanner.push(chunk);
      if (scanner.malformedSeen) return failed(malformedAnswer(deploymentId, 'a malformed stream event'), 'malformed');
      if (events === '') continue;
      let out = '';
      for (const data of eventData(events)) {
        const rewritten = rewriter.rewrite(data);
        if ('fail' in rewritten) {
          upstream.body.destroy();
          settleUsage();
          return { ok: false, error: continuationRefused(deploymentId, rewritten.fail) };
        }
        for (const sent of rewritten.send) out += `data: ${sent}\n\n`;
      }
      if (out === '') continue;
      if (rewriter.tokenSent) {
        firstTokenArrived();
        context.firstToken();
      }
      recovery.delivered.add(out);
      if (!response.write(out)) await once(response, 'drain', { signal: controller.signal });
    }
  } catch (error) {
    const deadline = timedOut();
    settleUsage();
    if (controller.signal.aborted && deadline === undefined) {
      // The client went away: nothing more to send, nothing to continue.
      context.failed('client_closed');
      return { ok: true };
    }
    const failure = fromTransportError(error, deploymentId, deadline);
    if (deadline !== undefined && rewriter.tokenSent) {
      endWithErrorEvent(response, context, failure);
      return { ok: true };
    }
    if (deadline !== undefined) return { ok: false, error: failure };
    return failure.status === 504 ? failed(failure, 'stall') : failed(streamInterrupted(deploymentId), 'cut');
  }
  if (!rewriter.finished || scanner.errorSeen) return failed(streamInterrupted(deploymentId), 'cut');
  settleUsage();
  context.upstreamEnded();
  await context.commitAnswer(200);
  const { outcome } = context;
  const totals = totalsOf(outcome);
  let ending = '';
  if (recovery.includeUsage && recovery.transcript) {
    const usage = { promptTokens: totals.promptTokens, completionTokens: totals.completionTokens, totalTokens: totals.promptTokens + totals.completionTokens };
    ending += `data: ${usageChunkData(recovery.transcript, usage)}\n\n`;
  }
  const attempts = attemptsSummary(outcome.attempts, recovery.breaks);
  ending += `: x-dosrouter-attempts: ${attempts}\n\n`;
  response.addTrailers({ 'x-dosrouter-attempts': attempts });
  response.end(`${ending}data: [DONE]\n\n`);
  return { ok: true };
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
