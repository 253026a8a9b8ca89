// Preloaded into gateway processes (NODE_OPTIONS="--require …/gc-probe.cjs" with GC_PROBE_DIR set; other Node
// processes that inherit NODE_OPTIONS ignore it): sums V8's GC pauses by kind from perf_hooks `gc` entries (wall
// time of each pause) and writes them with the process's CPU time and memory to $GC_PROBE_DIR/gc-<pid>.json every
// 2 s and at exit. Used for docs/benchmarks.md "GC at 10,000 streams". Not loaded in production.
'use strict';
if (process.argv[1] && process.argv[1].includes('gateway/dist/main.js') && process.env.GC_PROBE_DIR) {
  const { PerformanceObserver, constants } = require('node:perf_hooks');
  const { writeFileSync } = require('node:fs');
  const kinds = {
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
  };
  const totals = {};
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = kinds[entry.detail?.kind] ?? 'other';
      const total = (totals[kind] ??= { count: 0, ms: 0, maxMs: 0 });
      total.count += 1;
      total.ms += entry.duration;
      total.maxMs = Math.max(total.maxMs, entry.duration);
    }
  }).observe({ entryTypes: ['gc'] });
  const write = () => {
    const usage = process.resourceUsage();
    writeFileSync(
      `${process.env.GC_PROBE_DIR}/gc-${process.pid}.json`,
      JSON.stringify({ argv: process.argv.slice(2), cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6, maxRssKB: usage.maxRSS, totals, memory: process.memoryUsage() }),
    );
  };
  setInterval(write, 2000).unref();
  process.on('exit', write);
}
