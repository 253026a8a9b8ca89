import type { Deployment, HedgeSettings, RoutingSnapshot } from '@dosrouter/shared';
import type { RequestContext } from '../request/request-context.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import type { AttemptResult } from '../upstream/attempt.js';

/** One attempt in a race: its deployment, its own context and controller, and how it ended. */
export interface RacingAttempt {
  readonly deployment: Deployment;
  readonly context: RequestContext;
  readonly controller: AbortController;
  readonly result: Promise<AttemptResult>;
}

export interface HedgeRaceOptions {
  readonly first: Deployment;
  readonly hedge: HedgeSettings;
  readonly snapshot: RoutingSnapshot;
  /** The request's context: it adopts the winner's fork. */
  readonly context: RequestContext;
  readonly metrics: GatewayMetrics;
  /** The next deployment to hedge onto now (admitted; none: no hedge), never one in `busy`. */
  nextCandidate(busy: ReadonlySet<Deployment>): Promise<Deployment | undefined>;
  /** Starts an attempt on `deployment` with this context and this claim. */
  start(deployment: Deployment, context: RequestContext, claim: () => boolean): { controller: AbortController; result: Promise<AttemptResult> };
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
}

/** How a race ended: the attempt the request goes on with (the winner, else the last to fail) and the others. */
export interface HedgeOutcome {
  readonly deployment: Deployment;
  readonly result: AttemptResult;
  readonly others: ReadonlyArray<{ readonly deployment: Deployment; readonly result: AttemptResult }>;
}

/**
 * The wait before hedging on the first deployment: `afterMs`, or the percentile of its rolling time to first token
 * (every replica's streams of the last minute); undefined (no hedge) while it has no such figure.
 */
export function hedgeDelayMs(hedge: HedgeSettings, deployment: Deployment, snapshot: RoutingSnapshot): number | undefined {
  if (hedge.afterMs !== undefined) return hedge.afterMs;
  return hedge.afterPercentile === undefined ? undefined : snapshot.stats.get(deployment.id)?.ttftPercentilesMs?.[hedge.afterPercentile];
}

/**
 * Hedged requests: the first attempt starts; each time the delay passes with no first token, the same request
 * starts on the next candidate (at most `maxExtra` more). The first attempt to have a token claims the client's
 * response; the others are aborted at once (the request's context adopts the winner's and charges them the prompt
 * they were sent). Every attempt runs on a fork of the request's context, so that racing attempts never mix their
 * facts.
 */
export async function runHedgeRace(options: HedgeRaceOptions): Promise<HedgeOutcome> {
  const { context, hedge } = options;
  const attempts: RacingAttempt[] = [];
  const settled = new Map<RacingAttempt, AttemptResult>();
  let winner: RacingAttempt | undefined;

  const launch = (deployment: Deployment): RacingAttempt => {
    const fork = context.fork();
    let attempt!: RacingAttempt;
    const claim = (): boolean => {
      if (winner) return false;
      winner = attempt;
      const losers = attempts.filter((other) => other !== attempt && !settled.has(other));
      context.adopt(fork, attempts.length - 1, losers.map((loser) => loser.deployment));
      for (const loser of losers) loser.controller.abort(new Error('another hedged attempt answered first'));
      return true;
    };
    const { controller, result } = options.start(deployment, fork, claim);
    attempt = { deployment, context: fork, controller, result: result.then((value) => (settled.set(attempt, value), value)) };
    attempts.push(attempt);
    return attempt;
  };

  launch(options.first);
  const delayMs = hedgeDelayMs(hedge, options.first, options.snapshot);
  for (let extra = 0; delayMs !== undefined && extra < hedge.maxExtra && !winner && !options.signal.aborted; extra += 1) {
    const pending = attempts.filter((attempt) => !settled.has(attempt));
    if (pending.length === 0) break;
    let timer: NodeJS.Timeout | undefined;
    const elapsed = new Promise<'elapsed'>((resolve) => (timer = setTimeout(() => resolve('elapsed'), delayMs)));
    const first = await Promise.race([elapsed, ...pending.map((attempt) => attempt.result.then(() => 'settled' as const))]);
    clearTimeout(timer);
    // An attempt that ended (a failure before its first token) leaves the request to the attempt loop.
    if (first === 'settled' || winner || options.signal.aborted) break;
    const candidate = await options.nextCandidate(new Set(attempts.map((attempt) => attempt.deployment)));
    if (!candidate || winner) break;
    launch(candidate);
  }

  const results = await Promise.all(attempts.map((attempt) => attempt.result));
  if (attempts.length > 1) options.metrics.recordHedge(winner === undefined ? 'none' : winner === attempts[0] ? 'primary' : 'hedge');
  const main = winner ?? attempts.at(-1)!;
  if (!winner) context.adopt(main.context, attempts.length - 1, []);
  const mainResult = results[attempts.indexOf(main)]!;
  const others = attempts.filter((attempt) => attempt !== main).map((attempt) => ({ deployment: attempt.deployment, result: results[attempts.indexOf(attempt)]! }));
  return { deployment: main.deployment, result: mainResult, others };
}
