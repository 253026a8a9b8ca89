/** Cluster mode may cost this share of embedded mode's throughput at most (the target: within 15%). */
export const CLUSTER_THROUGHPUT_TARGET_SHARE = 0.85;

/** The cluster scenarios held against embedded mode's nonstream-gateway of the same run. */
const EMBEDDED_COMPARISONS = [
  { name: 'cluster1-nonstream', label: 'cluster mode (1 replica)' },
  { name: 'cluster1-limits-nonstream', label: 'cluster mode (1 replica) with per-key limits, a Redis round trip on every request,' },
];

const fixed = (value, digits) => (value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits));
const percent = (share) => `${(share * 100).toFixed(1)}%`;
const find = (results, name) => results.find((result) => result.name === name);

/** Throughput of each cluster scenario over embedded mode's, for the targets list; none without both in the run. */
export function clusterTargetChecks(results) {
  const embedded = find(results, 'nonstream-gateway');
  if (embedded === undefined) return [];
  return EMBEDDED_COMPARISONS.flatMap(({ name, label }) => {
    const cluster = find(results, name);
    if (cluster === undefined) return [];
    const share = cluster.requestsPerSecond / embedded.requestsPerSecond;
    return [
      {
        name: `${label} throughput, share of embedded (${name} / nonstream-gateway)`,
        target: `>= ${CLUSTER_THROUGHPUT_TARGET_SHARE}`,
        measured: share,
        met: share >= CLUSTER_THROUGHPUT_TARGET_SHARE,
      },
    ];
  });
}

/** The cluster part of the printed report; no lines when no cluster scenario ran. */
export function formatClusterSection(document) {
  const { results, machine } = document;
  const clusterResults = results.filter((result) => result.topology !== 'embedded');
  if (clusterResults.length === 0) return [];
  const lines = [''];
  lines.push('cluster rows: own redis-server per topology, replicas in cluster mode (REDIS_URL set), access log on; gw columns are the replicas together');
  lines.push('(CPU) or the largest replica (peak RSS); other cores also leaves out nginx, redis-server and the idle embedded gateway.');

  const embedded = find(results, 'nonstream-gateway');
  lines.push('');
  for (const { name, label } of EMBEDDED_COMPARISONS) {
    const cluster = find(results, name);
    if (cluster === undefined) continue;
    if (embedded === undefined) {
      lines.push(`${label} vs embedded: no nonstream-gateway in this run to compare ${name} with`);
      continue;
    }
    const share = cluster.requestsPerSecond / embedded.requestsPerSecond;
    lines.push(
      `${label} vs embedded: ${percent(share)} of embedded throughput (${fixed(cluster.requestsPerSecond, 0)} vs ${fixed(embedded.requestsPerSecond, 0)} req/s; ` +
        `target: within 15%, i.e. >= ${percent(CLUSTER_THROUGHPUT_TARGET_SHARE)})`,
    );
  }
  for (const result of clusterResults) {
    const redis = result.redis;
    lines.push(
      `redis-server during ${result.name}: ${fixed(redis.cpuMicrosecondsPerRequest, 1)} µs CPU/request (utime+stime of the redis-server started for it), ` +
        `${fixed(redis.scriptCallsPerRequest, 2)} script calls/request, ${fixed(redis.commandsPerRequest, 2)} commands/request (commands inside scripts included)`,
    );
  }

  const nginxOne = find(results, 'nginx1-nonstream');
  const nginxTwo = find(results, 'nginx2-nonstream');
  if (nginxOne !== undefined && nginxTwo !== undefined) {
    lines.push(`nginx, 2 replicas vs 1 replica: ${percent(nginxTwo.requestsPerSecond / nginxOne.requestsPerSecond)} of the 1-replica throughput`);
  }
  if (nginxOne !== undefined || nginxTwo !== undefined) {
    lines.push(
      `NOTE: this machine has ${machine.cpuCount} cores, shared by wrk, the simulator, nginx, redis-server and the replicas: a second replica ` +
        `${machine.cpuCount <= 2 ? 'cannot' : 'need not'} double throughput here. The table below shows where the cores went.`,
    );
  }

  lines.push('');
  lines.push(...formatCpuTable([embedded, ...clusterResults].filter((result) => result !== undefined), machine.cpuCount));
  lines.push(...formatLogProblems(document.topologies ?? []));
  return lines;
}

const CPU_COLUMNS = [
  { title: 'scenario', value: (result) => result.name },
  { title: 'req/s', value: (result) => fixed(result.requestsPerSecond, 0) },
  {
    title: 'gateway(s)',
    value: (result) => (result.gateway?.replicas ?? [result.gateway]).map((gateway) => fixed(gateway?.cpuCoreShare, 2)).join('+'),
  },
  { title: 'nginx', value: (result) => fixed(result.cpuCores?.nginx, 2) },
  { title: 'redis', value: (result) => fixed(result.cpuCores?.redis, 2) },
  { title: 'simulator', value: (result) => fixed(result.simulator.cpuCoreShare, 2) },
  { title: 'wrk+harness', value: (result) => fixed(result.harnessAndLoadGeneratorCores, 2) },
  { title: 'other', value: (result) => fixed(Math.max(0, result.machine.otherProcessesCores), 2) },
  { title: 'busy (all)', value: (result) => fixed(result.machine.busyCores, 2) },
  { title: 'gw µs/req', value: (result) => fixed(result.gateway?.cpuMicrosecondsPerRequest, 1) },
  { title: 'nginx µs/req', value: (result) => fixed(result.nginx?.cpuMicrosecondsPerRequest, 1) },
  { title: 'redis µs/req', value: (result) => fixed(result.redis?.cpuMicrosecondsPerRequest, 1) },
];

function formatCpuTable(results, cpuCount) {
  const cells = results.map((result) => CPU_COLUMNS.map((column) => column.value(result)));
  const widths = CPU_COLUMNS.map((column, index) => Math.max(column.title.length, ...cells.map((row) => row[index].length)));
  const formatRow = (row) => row.map((cell, index) => (index === 0 ? cell.padEnd(widths[index]) : cell.padStart(widths[index]))).join('  ');
  return [
    `where the CPU went (cores over the measured run, ${cpuCount} on this machine; gateway(s): each replica, + between them):`,
    formatRow(CPU_COLUMNS.map((column) => column.title)),
    widths.map((width) => '-'.repeat(width)).join('  '),
    ...cells.map(formatRow),
    'busy (all): the whole machine from /proc/stat, the idle embedded gateway included (cpuCores.idleEmbeddedGateway in the JSON);',
    'nginx: master and workers; µs/req: CPU time over the measured run / completed requests.',
  ];
}

/** Warn and error lines of the cluster processes, per topology started (its scenarios named). */
function formatLogProblems(topologies) {
  const lines = [];
  for (const topology of topologies) {
    for (const [processName, log] of Object.entries(topology.logs ?? {})) {
      if (log.warn + log.error === 0) continue;
      lines.push('');
      lines.push(`${topology.name} (${topology.scenarios.join(', ')}): ${processName} logged ${log.warn} warn and ${log.error} error lines (warm-ups included); the first:`);
      for (const line of log.firstProblemLines) lines.push(`  ${line}`);
    }
  }
  return lines;
}
