// The long-stream section of the benchmark's printed report: one row per run, then the gateway's figures as ratios to
// nginx's from the same run.
import { formatTable } from './report.mjs';

const fixed = (value, digits) => (value === undefined || value === null || Number.isNaN(value) ? '-' : value.toFixed(digits));

const COLUMNS = [
  { title: 'run', value: (result) => result.name },
  { title: 'streams', value: (result) => String(result.streams) },
  { title: 'done', value: (result) => String(result.completed) },
  { title: 'failed', value: (result) => String(result.failed) },
  { title: 'events', value: (result) => String(result.events) },
  { title: 'proxy µs/event', value: (result) => fixed(result.proxy?.cpuMicrosecondsPerEvent, 1) },
  { title: 'proxy cores', value: (result) => fixed(result.proxy?.cpuCores, 2) },
  { title: 'proxy peak RSS MB', value: (result) => fixed(result.proxy?.peakRssMegabytes, 1) },
  { title: 'KB/stream', value: (result) => fixed(result.proxy?.peakRssKilobytesPerStream, 1) },
  { title: 'TTFB p50 ms', value: (result) => fixed(result.timeToFirstByteMs.p50, 1) },
  { title: 'TTFB p99 ms', value: (result) => fixed(result.timeToFirstByteMs.p99, 1) },
  { title: 'gap+ p50 ms', value: (result) => fixed(result.addedGapMs.p50, 2) },
  { title: 'gap+ p99 ms', value: (result) => fixed(result.addedGapMs.p99, 2) },
  { title: 'sim µs/event', value: (result) => fixed(result.simulator.cpuMicrosecondsPerEvent, 1) },
  { title: 'sim RSS MB', value: (result) => fixed(result.simulator.peakRssMegabytes, 0) },
  { title: 'loadgen CPU s', value: (result) => fixed(result.loadGenerator?.cpuSeconds, 1) },
  { title: 'listen overflows', value: (result) => String(result.kernel.ListenOverflows) },
  { title: 'other cores', value: (result) => fixed(Math.max(0, result.machine.otherProcessesCores), 2) },
  { title: 'flag', value: (result) => (result.problems.length > 0 ? 'ERRORS' : 'ok') },
];

/** gateway ÷ nginx for each stream scenario that ran both, from the same run. */
export function streamRatios(streamResults) {
  const ratios = [];
  for (const scenario of new Set(streamResults.map((result) => result.scenario))) {
    const find = (target) => streamResults.find((result) => result.scenario === scenario && result.target === target);
    const gateway = find('gateway');
    const nginx = find('nginx');
    const direct = find('direct');
    const gatewayH2 = find('gateway-h2');
    if (gateway?.proxy === undefined || nginx?.proxy === undefined) continue;
    const ratio = (a, b) => (a === undefined || b === undefined || b === 0 ? undefined : a / b);
    // HTTP/2 to the backend against HTTP/1.1, both through the gateway in the same run.
    const http2 = gatewayH2?.proxy && {
      cpuPerEvent: ratio(gatewayH2.proxy.cpuMicrosecondsPerEvent, gateway.proxy.cpuMicrosecondsPerEvent),
      peakRss: ratio(gatewayH2.proxy.peakRssMegabytes, gateway.proxy.peakRssMegabytes),
      cpuPerEventToNginx: ratio(gatewayH2.proxy.cpuMicrosecondsPerEvent, nginx.proxy.cpuMicrosecondsPerEvent),
      peakRssToNginx: ratio(gatewayH2.proxy.peakRssMegabytes, nginx.proxy.peakRssMegabytes),
    };
    ratios.push({
      scenario,
      cpuPerEvent: ratio(gateway.proxy.cpuMicrosecondsPerEvent, nginx.proxy.cpuMicrosecondsPerEvent),
      peakRss: ratio(gateway.proxy.peakRssMegabytes, nginx.proxy.peakRssMegabytes),
      rssPerStream: ratio(gateway.proxy.peakRssKilobytesPerStream, nginx.proxy.peakRssKilobytesPerStream),
      // The p99 of (gap − interval) through each proxy less the same straight to the simulator: what the proxy added.
      gatewayAddedP99Ms: direct && gateway.addedGapMs.p99 - direct.addedGapMs.p99,
      nginxAddedP99Ms: direct && nginx.addedGapMs.p99 - direct.addedGapMs.p99,
      http2,
    });
  }
  return ratios;
}

export function formatStreamReport(document) {
  const { machine, settings, streamResults, topologies } = document;
  const lines = [''];
  lines.push(`Long streams — ${document.startedAt}; machine: ${machine.cpuCount} cores, node ${machine.nodeVersion}, load average at start ${machine.loadAverageAtStart.map((load) => load.toFixed(2)).join(' ')}`);
  lines.push(`each stream: ${settings.streamSeconds} s of content events at the scenario's rate, usage included; every run its own load generator process (raw node:http)`);
  const limits = topologies.find((topology) => topology.name === 'streams')?.openFileLimits;
  if (limits !== undefined) {
    lines.push(`open-file limits (soft/hard): ${Object.entries(limits).map(([name, limit]) => `${name} ${limit.soft}/${limit.hard}`).join(', ')}`);
    const refused = Object.values(limits).find((limit) => limit.refused !== undefined)?.refused;
    if (refused !== undefined) lines.push(`could not raise them to the 65,536 wanted: ${refused}`);
  }
  lines.push('');
  lines.push(...formatTable(COLUMNS, streamResults));
  lines.push('');
  lines.push('proxy: the gateway, or nginx (master + 1 worker). µs/event: its user+system CPU from the first stream opened to the last ended / events the clients received.');
  lines.push('KB/stream: (peak RSS over the run − RSS before it) / streams. gap+: (time between two content events at the client − the simulator\'s interval).');
  for (const ratio of streamRatios(streamResults)) {
    lines.push(
      `${ratio.scenario}: gateway ÷ nginx — CPU per event ${fixed(ratio.cpuPerEvent, 2)}×, peak RSS ${fixed(ratio.peakRss, 2)}×, RSS per stream ${fixed(ratio.rssPerStream, 2)}×; ` +
        `p99 gap added over direct: gateway ${fixed(ratio.gatewayAddedP99Ms, 2)} ms, nginx ${fixed(ratio.nginxAddedP99Ms, 2)} ms`,
    );
    if (ratio.http2) {
      lines.push(
        `${ratio.scenario}: gateway-h2 (HTTP/2 to the backend) ÷ gateway (HTTP/1.1) — CPU per event ${fixed(ratio.http2.cpuPerEvent, 2)}×, peak RSS ${fixed(ratio.http2.peakRss, 2)}×; ` +
          `÷ nginx — CPU per event ${fixed(ratio.http2.cpuPerEventToNginx, 2)}×, peak RSS ${fixed(ratio.http2.peakRssToNginx, 2)}×`,
      );
    }
  }
  for (const result of streamResults.filter((entry) => entry.circuits !== undefined)) {
    lines.push(`${result.name}: ${result.completed} completed, ${result.refused} refused (${result.refusedWithRetryAfter} with retry-after), circuits ${Object.keys(result.circuits).length === 0 ? 'none left the closed state' : JSON.stringify(result.circuits)}`);
  }
  const troubled = streamResults.filter((result) => result.problems.length > 0);
  if (troubled.length > 0) {
    lines.push('', 'STREAM RUNS WITH ERRORS:');
    for (const result of troubled) lines.push(`  ${result.name}: ${result.problems.join('; ')}`);
  }
  return lines.join('\n');
}

const RATE_COLUMNS = [
  { title: 'target', value: (row) => row.target },
  { title: 'rate/stream', value: (row) => String(row.rate) },
  { title: 'events/s (of)', value: (row) => `${fixed(row.eventsPerSecond, 0)} (${row.expectedEventsPerSecond})` },
  { title: 'window s', value: (row) => `${fixed(row.windowOpenedAtSeconds, 1)}+${fixed(row.windowSeconds, 1)}` },
  { title: 'gap+ p99 ms', value: (row) => fixed(row.addedGapP99Ms, 1) },
  { title: 'µs/event (user + sys)', value: (row) => `${fixed(row.cpuMicrosecondsPerEvent, 1)} (${fixed(row.userMicrosecondsPerEvent, 1)} + ${fixed(row.systemMicrosecondsPerEvent, 1)})` },
  { title: '÷ nginx', value: (row) => `${fixed(row.toNginx, 2)}×` },
  { title: 'whole run µs/event', value: (row) => fixed(row.wholeRunCpuMicrosecondsPerEvent, 1) },
  { title: '÷ nginx', value: (row) => `${fixed(row.wholeRunToNginx, 2)}×` },
  { title: 'ms/stream', value: (row) => fixed(row.perStreamMilliseconds, 2) },
  { title: 'done/failed', value: (row) => `${row.completed}/${row.failed}` },
  { title: 'sustained', value: (row) => (row.sustained ? 'yes' : `no: ${row.reasons.join('; ')}`) },
];

/** The streams-rate sweep: one row per target and rate, then each target's highest sustained rate and marginal cost. */
export function formatRateReport(summary) {
  const { streams, streamSeconds, window, sustains } = summary;
  const lines = ['', `CPU per event at rising rates (streams-rate): ${streams} streams of ${streamSeconds} s per run; CPU and events over the steady window (every stream answered, none ended; at most ${window.fromSeconds}-${window.toSeconds} s; "window s": opened at + length)`];
  lines.push(...formatTable(RATE_COLUMNS, summary.rows));
  lines.push(`sustained: events received in the window >= ${sustains.minDeliveredShare * 100} % of streams × rate × window, and p99 gap added <= ${sustains.maxAddedGapP99Ms} ms. ms/stream: (whole-run CPU − events × window µs/event) / streams.`);
  for (const entry of summary.perTarget) {
    const marginal = entry.marginal
      ? `; marginal (less stable) ${entry.marginal.low} → ${entry.marginal.high}/s: ${fixed(entry.marginal.cpuMicrosecondsPerEvent, 1)} µs/event, nginx ${fixed(entry.marginal.nginxCpuMicrosecondsPerEvent, 1)}, ${fixed(entry.marginal.toNginx, 2)}×`
      : '';
    lines.push(`${entry.target}: highest rate sustained ${entry.highestSustainedRate ?? 'none'}/s; at the highest nginx also sustained (${entry.highestSustainedWithNginx ?? '-'}/s) ${fixed(entry.toNginxAtHighest, 2)}× nginx${marginal}`);
  }
  return lines.join('\n');
}
