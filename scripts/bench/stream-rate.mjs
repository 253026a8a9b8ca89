// The streams-rate scenario of `pnpm bench`: a fixed number of streams at rising event rates, nginx, the gateway and
// gateway-h2 in turn at each rate before the next (so that each ratio to nginx comes from the same minutes), until
// nginx or the gateway no longer sustains the rate. CPU per event is read over each run's steady window (every stream
// open, none ended), so that opening and closing the streams is not in it; the whole run's figure is kept next to it,
// and the difference between the two is what a stream costs over its life.
import { DEFAULT_AUTHORIZATION } from './configs.mjs';
import { runStreamTarget, SETTLE_MS, streamRequestBody, warmUp } from './stream-scenarios.mjs';

/**
 * A target sustains a rate when, over the steady window, the clients received at least this share of the events the
 * simulator was asked for (streams × rate × window seconds) ...
 */
export const MIN_DELIVERED_SHARE = 0.95;

/** ... and the p99 of the gap added between two content events (gap − interval) stayed at or below this. */
export const MAX_ADDED_GAP_P99_MS = 200;

/**
 * The steady window opens this long after the last stream was due to open (the ramp), or later, when every stream has
 * answered ...
 */
const WINDOW_AFTER_RAMP_SECONDS = 2;

/** ... and closes this long before the first stream is due to end, or earlier, when one ends. */
const WINDOW_BEFORE_END_SECONDS = 1;

/** A window shorter than this (streams answering late, under load) is too short to judge a rate by. */
export const MIN_WINDOW_SECONDS = 5;

/** Whether a run sustained its rate, and if not, why. */
export function judgeSustained(result, streams, rate) {
  const { window } = result;
  if (window === undefined) return { sustained: false, reasons: ['no steady window: a stream was still unanswered when it was due to close'] };
  if (window.seconds < MIN_WINDOW_SECONDS) {
    return { sustained: false, reasons: [`steady window only ${window.seconds.toFixed(1)} s (every stream answered at ${window.openedAtSeconds.toFixed(1)} s)`] };
  }
  const deliveredShare = window.events / (streams * rate * window.seconds);
  const reasons = [];
  if (deliveredShare < MIN_DELIVERED_SHARE) reasons.push(`${(deliveredShare * 100).toFixed(1)} % of the events expected in the window`);
  const gapP99 = window.addedGapMs.p99;
  if (gapP99 === undefined || gapP99 > MAX_ADDED_GAP_P99_MS) reasons.push(`p99 gap added ${gapP99 ?? '-'} ms > ${MAX_ADDED_GAP_P99_MS} ms`);
  return { sustained: reasons.length === 0, deliveredShare, reasons };
}

/**
 * Runs the sweep on the stream system. Returns the runs (stream results, one per target and rate, as the other stream
 * scenarios' are) and the sweep's summary (rateSweepSummary).
 */
export async function runStreamRateSweep(scenario, { system, durationSeconds, streamCount, rates = scenario.rates, runEveryRate = false }) {
  const streamSeconds = durationSeconds ?? scenario.defaultSeconds;
  const streams = streamCount ?? scenario.streams;
  const window = { fromSeconds: scenario.rampSeconds + WINDOW_AFTER_RAMP_SECONDS, toSeconds: streamSeconds - WINDOW_BEFORE_END_SECONDS };
  if (window.toSeconds - window.fromSeconds < 2) {
    throw new Error(`${scenario.name}: streams of ${streamSeconds} s leave no steady window; give --duration ${window.fromSeconds + WINDOW_BEFORE_END_SECONDS + 2} or more`);
  }
  const results = [];
  for (const rate of [...rates].sort((a, b) => a - b)) {
    const atRate = { ...scenario, name: `${scenario.name}-${rate}`, eventsPerSecond: rate };
    const body = streamRequestBody(rate, streamSeconds);
    for (const target of scenario.targets) {
      await warmUp({ target, system, gateway: system.gateway, authorization: DEFAULT_AUTHORIZATION, eventsPerSecond: rate });
      console.error(`running ${atRate.name}-${target}: ${streams} streams of ${streamSeconds} s at ${rate} events/s, steady window within ${window.fromSeconds}-${window.toSeconds} s`);
      const result = await runStreamTarget({ scenario: atRate, target, system, gateway: system.gateway, streamSeconds, streams, body, authorization: DEFAULT_AUTHORIZATION, window });
      result.sustain = judgeSustained(result, streams, rate);
      results.push(result);
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    }
    const stoppedBy = results.filter((result) => result.eventsPerSecond === rate && ['nginx', 'gateway'].includes(result.target) && !result.sustain.sustained);
    if (stoppedBy.length > 0) {
      const why = stoppedBy.map((result) => `${result.target} did not sustain ${rate} events/s (${result.sustain.reasons.join('; ')})`).join(', ');
      console.error(`${scenario.name}: ${why}; ${runEveryRate ? 'going on (--rate-all)' : 'no higher rate'}`);
      if (!runEveryRate) break;
    }
  }
  return { results, summary: rateSweepSummary(results, { streams, streamSeconds, window, targets: scenario.targets }) };
}

/** CPU seconds and events of a run's steady window. */
const windowCpu = (result) => result.window.userSeconds + result.window.systemSeconds;

/**
 * Per target and rate: events/s, CPU µs per event over the steady window (user + system) and over the whole run, each
 * ÷ nginx's at that rate, what a stream cost beyond its events; per target: the highest rate sustained (with nginx
 * sustaining it too), and the marginal cost per event between the two highest such rates (Δcpu / Δevents).
 */
export function rateSweepSummary(results, { streams, streamSeconds, window, targets }) {
  const rows = results.map((result) => {
    const nginx = results.find((other) => other.target === 'nginx' && other.eventsPerSecond === result.eventsPerSecond);
    const perEvent = (run) => (run?.window && run.window.events > 0 ? (windowCpu(run) * 1e6) / run.window.events : undefined);
    const microseconds = perEvent(result);
    const wholeRun = result.proxy?.cpuMicrosecondsPerEvent;
    return {
      target: result.target,
      rate: result.eventsPerSecond,
      eventsPerSecond: result.window && result.window.events / result.window.seconds,
      expectedEventsPerSecond: streams * result.eventsPerSecond,
      windowOpenedAtSeconds: result.window?.openedAtSeconds,
      windowSeconds: result.window?.seconds,
      addedGapP99Ms: result.window?.addedGapMs.p99,
      cpuMicrosecondsPerEvent: microseconds,
      userMicrosecondsPerEvent: result.window && (result.window.userSeconds * 1e6) / result.window.events,
      systemMicrosecondsPerEvent: result.window && (result.window.systemSeconds * 1e6) / result.window.events,
      toNginx: ratio(microseconds, perEvent(nginx)),
      wholeRunCpuMicrosecondsPerEvent: wholeRun,
      wholeRunToNginx: ratio(wholeRun, nginx?.proxy?.cpuMicrosecondsPerEvent),
      // The whole run's CPU less its events at the steady window's price: opening, holding and closing a stream.
      perStreamMilliseconds:
        result.proxy && microseconds !== undefined ? ((result.proxy.cpuSeconds - (microseconds / 1e6) * result.events) * 1e3) / streams : undefined,
      completed: result.completed,
      failed: result.failed,
      sustained: result.sustain.sustained,
      reasons: result.sustain.reasons,
    };
  });
  const sustainedRates = (target) => rows.filter((row) => row.target === target && row.sustained).map((row) => row.rate);
  const nginxRates = new Set(sustainedRates('nginx'));
  const find = (target, rate) => results.find((result) => result.target === target && result.eventsPerSecond === rate);
  const marginal = (target, low, high) => {
    const [a, b] = [find(target, low), find(target, high)];
    return ((windowCpu(b) - windowCpu(a)) * 1e6) / (b.window.events - a.window.events);
  };
  const perTarget = targets.map((target) => {
    const rates = sustainedRates(target);
    const shared = rates.filter((rate) => nginxRates.has(rate)).sort((a, b) => a - b);
    const highest = shared.at(-1);
    const entry = {
      target,
      highestSustainedRate: rates.length === 0 ? undefined : Math.max(...rates),
      highestSustainedWithNginx: highest,
      toNginxAtHighest: highest === undefined ? undefined : rows.find((row) => row.target === target && row.rate === highest).toNginx,
    };
    if (shared.length >= 2) {
      const [low, high] = shared.slice(-2);
      entry.marginal = { low, high, cpuMicrosecondsPerEvent: marginal(target, low, high), nginxCpuMicrosecondsPerEvent: marginal('nginx', low, high) };
      entry.marginal.toNginx = ratio(entry.marginal.cpuMicrosecondsPerEvent, entry.marginal.nginxCpuMicrosecondsPerEvent);
    }
    return entry;
  });
  return {
    streams,
    streamSeconds,
    window,
    sustains: { minDeliveredShare: MIN_DELIVERED_SHARE, maxAddedGapP99Ms: MAX_ADDED_GAP_P99_MS },
    rows,
    perTarget,
  };
}

function ratio(a, b) {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}
