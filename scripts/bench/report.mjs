import { clusterTargetChecks, formatClusterSection } from './cluster-report.mjs';

/** Targets the figures are held against (docs/benchmarks.md). */
export const TARGETS = {
  nonStreamingRequestsPerSecond: 5_000,
  /** Issue #18: non-streaming through the gateway at least this share of nginx's (1 worker) in the same run. */
  nonStreamingShareOfNginx: 0.3,
  addedLatencyAtP50Ms: 0.2,
};

/** Latency the gateway adds with one request in flight: gateway p50 and p99 minus direct p50 and p99. */
export function addedLatency(results) {
  const direct = results.find((result) => result.name === 'single-direct');
  const gateway = results.find((result) => result.name === 'single-gateway');
  if (direct === undefined || gateway === undefined) return undefined;
  return {
    p50Ms: gateway.latencyMs.p50 - direct.latencyMs.p50,
    p99Ms: gateway.latencyMs.p99 - direct.latencyMs.p99,
  };
}

/** `met` is undefined when the load generator's latency resolution is too coarse to tell. */
export function targetChecks(results, latencyResolutionMs) {
  const checks = [];
  const nonStreaming = results.find((result) => result.name === 'nonstream-gateway');
  if (nonStreaming !== undefined) {
    checks.push({
      name: 'gateway non-streaming requests/s',
      target: `>= ${TARGETS.nonStreamingRequestsPerSecond}`,
      measured: nonStreaming.requestsPerSecond,
      met: nonStreaming.requestsPerSecond >= TARGETS.nonStreamingRequestsPerSecond,
    });
  }
  const nginx = results.find((result) => result.name === 'nonstream-nginx');
  if (nonStreaming !== undefined && nginx !== undefined) {
    const share = nonStreaming.requestsPerSecond / nginx.requestsPerSecond;
    checks.push({
      name: 'gateway non-streaming requests/s ÷ nginx (1 worker) in front of the simulator',
      target: `>= ${TARGETS.nonStreamingShareOfNginx}`,
      measured: share,
      met: share >= TARGETS.nonStreamingShareOfNginx,
    });
  }
  const added = addedLatency(results);
  if (added !== undefined) {
    checks.push({
      name: 'latency added at p50, one request in flight (ms)',
      target: `<= ${TARGETS.addedLatencyAtP50Ms}`,
      measured: added.p50Ms,
      met: latencyResolutionMs < TARGETS.addedLatencyAtP50Ms ? added.p50Ms <= TARGETS.addedLatencyAtP50Ms : undefined,
    });
  }
  checks.push(...clusterTargetChecks(results));
  return checks;
}

const fixed = (value, digits) => (value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits));

const COLUMNS = [
  { title: 'scenario', value: (result) => result.name },
  { title: 'conns', value: (result) => String(result.connections) },
  { title: 'req/s', value: (result) => fixed(result.requestsPerSecond, 0) },
  { title: 'p50 ms', value: (result) => fixed(result.latencyMs.p50, 3) },
  { title: 'p99 ms', value: (result) => fixed(result.latencyMs.p99, 3) },
  { title: 'non-2xx', value: (result) => String(result.non2xx) },
  { title: 'errors', value: (result) => String(Object.values(result.errors).reduce((sum, count) => sum + count, 0)) },
  { title: 'gw CPU µs/req', value: (result) => fixed(result.gateway?.cpuMicrosecondsPerRequest, 1) },
  { title: 'gw CPU cores', value: (result) => fixed(result.gateway?.cpuCoreShare, 2) },
  { title: 'nginx CPU µs/req', value: (result) => fixed(result.nginx?.cpuMicrosecondsPerRequest, 1) },
  { title: 'gw peak RSS MB', value: (result) => fixed(result.gateway?.peakRssMegabytes, 1) },
  { title: 'sim CPU µs/req', value: (result) => fixed(result.simulator.cpuMicrosecondsPerRequest, 1) },
  { title: 'sim CPU cores', value: (result) => fixed(result.simulator.cpuCoreShare, 2) },
  // Tick-sampled machine totals and exact per-process times disagree by up to ~0.1 core; below 0 means none.
  { title: 'other cores', value: (result) => fixed(Math.max(0, result.machine.otherProcessesCores), 2) },
  { title: 'flag', value: (result) => (result.problems.length > 0 ? 'ERRORS' : result.noise.length > 0 ? 'noisy' : 'ok') },
];

/** A text table: one row per result, a column per `{ title, value(result) }`; the first column left-aligned. */
export function formatTable(columns, results) {
  const cells = results.map((result) => columns.map((column) => column.value(result)));
  const widths = columns.map((column, index) => Math.max(column.title.length, ...cells.map((row) => row[index].length)));
  const formatRow = (row) => row.map((cell, index) => (index === 0 ? cell.padEnd(widths[index]) : cell.padStart(widths[index]))).join('  ');
  return [formatRow(columns.map((column) => column.title)), widths.map((width) => '-'.repeat(width)).join('  '), ...cells.map(formatRow)];
}

/** The human-readable report: machine line, the table, problems, then the target checks. */
export function formatReport(document) {
  const { machine, loadGenerator, settings, results } = document;
  const lines = [];
  lines.push(`DOSRouter benchmark — ${document.startedAt}`);
  lines.push(`machine: ${machine.cpuModel}, ${machine.cpuCount} cores, node ${machine.nodeVersion}, linux ${machine.kernel}, load average at start ${machine.loadAverageAtStart.map((load) => load.toFixed(2)).join(' ')}`);
  lines.push(`code: git ${machine.gitCommit?.slice(0, 12) ?? 'unknown'}${machine.gitDirty ? ' with uncommitted changes' : ''}, build digest ${machine.buildDigest}`);
  lines.push(`load generator: ${loadGenerator.description}`);
  lines.push(`each run: ${settings.warmupSeconds} s warm-up (discarded), then ${settings.durationSeconds} s measured; simulator answers at once with ${settings.outputTokens} output tokens; gateway access log on, its stdout read and discarded`);
  lines.push('');

  lines.push(...formatTable(COLUMNS, results));
  lines.push('');
  lines.push('gw / nginx / sim CPU µs/req: that process\'s user+system CPU time over the measured run / completed requests (nginx: master and worker). gw/sim CPU cores: CPU time / wall time (1.00 = one core busy throughout).');
  lines.push('other cores: CPU used meanwhile by processes other than the gateway, the simulator, wrk and this harness (machine busy time from /proc/stat minus theirs; ±0.1 core).');
  lines.push(`gw peak RSS: VmHWM of the gateway, ${results.some((result) => result.gateway?.peakRssScope === 'since process start') ? 'since the process started' : 'reset before each measured run'}.`);

  lines.push(...formatClusterSection(document));

  const troubled = results.filter((result) => result.problems.length > 0);
  if (troubled.length > 0) {
    lines.push('');
    lines.push('RUNS WITH ERRORS — do not quote their figures:');
    for (const result of troubled) lines.push(`  ${result.name}: ${result.problems.join(', ')}`);
  }

  if (document.gatewayLog.firstProblemLines.length > 0) {
    lines.push('');
    lines.push(`gateway logged ${document.gatewayLog.warn} warn and ${document.gatewayLog.error} error lines (warm-ups included); the first:`);
    for (const line of document.gatewayLog.firstProblemLines) lines.push(`  ${line}`);
  }

  const noisy = results.filter((result) => result.problems.length === 0 && result.noise.length > 0);
  if (noisy.length > 0) {
    lines.push('');
    lines.push('NOISY RUNS — the machine was not quiet; rerun before quoting:');
    for (const result of noisy) lines.push(`  ${result.name}: ${result.noise.join(', ')}`);
  }

  const added = addedLatency(results);
  if (added !== undefined) {
    lines.push('');
    lines.push(`latency added by the gateway, one request in flight: p50 ${fixed(added.p50Ms, 3)} ms, p99 ${fixed(added.p99Ms, 3)} ms`);
  }
  if (document.targets.length > 0) {
    lines.push('');
    for (const check of document.targets) {
      lines.push(`target ${check.name}: ${check.target}, measured ${fixed(check.measured, check.measured < 10 ? 3 : 0)} — ${check.met === undefined ? 'cannot tell at this latency resolution' : check.met ? 'met' : 'NOT MET'}`);
    }
  }
  return lines.join('\n');
}
