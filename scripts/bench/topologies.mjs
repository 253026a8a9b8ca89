// What a scenario loads: the embedded gateway the harness always starts, or a cluster topology (own redis-server,
// gateway replicas in cluster mode, nginx in front) started through scripts/cluster/topology.mjs when a scenario
// needs it and stopped when the next one needs another.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster } from '../cluster/topology.mjs';
import { DEFAULT_AUTHORIZATION, UNREACHABLE_PER_KEY_LIMITS, writeGatewayConfig } from './configs.mjs';
import { childPids } from './process-usage.mjs';
import { addStopHook, GATEWAY_LOG_MARKERS, watchLogLevels } from './processes.mjs';
import { readRedisInfo } from './redis-info.mjs';
import { requestBody } from './scenarios.mjs';

/** nginx writes these levels to stderr (error_log stderr warn); anything from [error] up is a failed request or worse. */
const NGINX_LOG_MARKERS = { warn: ['[warn]'], error: ['[error]', '[crit]', '[alert]', '[emerg]'] };

/** A replica drains idle keep-alive connections at once; 5 s is plenty once the load generator has stopped. */
const REPLICA_STOP_GRACE_MS = 5_000;

/** The key's concurrency in the concurrency scenario: half the default 64 connections, so that half of them wait. */
const KEY_CONCURRENCY = 32;

/** Every cluster topology a scenario may name. All run in cluster mode, each replica with REDIS_URL set. */
export const CLUSTER_TOPOLOGIES = {
  'cluster-1-replica': {
    replicas: 1,
    description: 'cluster mode: 1 gateway replica with REDIS_URL set to its own redis-server, nginx in front (idle when the replica is loaded directly)',
  },
  'cluster-1-replica-limits': {
    replicas: 1,
    perKeyLimits: UNREACHABLE_PER_KEY_LIMITS,
    description: 'as cluster-1-replica, with limits.perKey set: every request is admitted through the limiter script in Redis',
  },
  'cluster-1-replica-concurrency': {
    replicas: 1,
    perKeyLimits: { ...UNREACHABLE_PER_KEY_LIMITS, concurrency: KEY_CONCURRENCY },
    description: `as cluster-1-replica-limits, with limits.perKey.concurrency ${KEY_CONCURRENCY}: past it requests wait for a slot of their key`,
  },
  'cluster-2-replicas': {
    replicas: 2,
    description: 'cluster mode: 2 gateway replicas sharing their own redis-server, nginx in front (least_conn)',
  },
};

/**
 * The embedded gateway, the simulator and nginx in front of the simulator (the reference proxy) that bench.mjs
 * starts, in the shape runScenario loads and measures.
 */
export function embeddedSystem({ simulator, gateway, nginx }, gatewayConfig) {
  const targets = { gateway: gateway.url, nginx: nginx.url, direct: simulator.url.replace(/\/v1$/, '') };
  return {
    topology: 'embedded',
    simulator,
    gateways: [{ name: 'gateway', pid: gateway.pid, log: gateway }],
    nginx: { pid: nginx.process.pid, workerPids: nginx.workerPids, log: nginx.log },
    processes: [
      { name: 'gateway', role: 'gateway', pid: gateway.pid },
      { name: 'simulator', role: 'simulator', pid: simulator.pid },
      { name: 'nginx master', role: 'nginx', pid: nginx.process.pid },
      ...nginx.workerPids.map((pid, index) => ({ name: `nginx worker ${index + 1}`, role: 'nginx', pid })),
    ],
    loadUrl: (scenario) => `${targets[scenario.target]}/v1/chat/completions`,
    exitedProcess: () => exitedServer([gateway, simulator]),
    describe: () => ({
      description: 'embedded mode: one gateway process without Redis, loaded directly; nginx (1 worker) in front of the simulator as the reference proxy',
      gatewayConfig: gatewayConfig.text,
      gateway: { url: gateway.url, pid: gateway.pid },
      simulator: { url: simulator.url, pid: simulator.pid },
      nginx: { url: nginx.url, masterPid: nginx.process.pid, workerPids: nginx.workerPids, config: nginx.configText },
    }),
  };
}

function exitedServer(servers) {
  const server = servers.find((candidate) => candidate.exit !== undefined);
  return server && { name: server.name, exit: server.exit, stderrTail: server.stderrTail };
}

/**
 * Starts cluster topology `name` under `directory`, with the simulator and the (idle) embedded gateway that keep
 * running beside it, checks it answers, and returns it in runScenario's shape. Stopped by `close()`, or by the
 * harness's stopAllChildren on an error or Ctrl-C.
 */
export async function startClusterSystem(name, { root, directory, servers }) {
  const definition = CLUSTER_TOPOLOGIES[name];
  const runDirectory = join(directory, name);
  const gatewayConfig = writeGatewayConfig(runDirectory, servers.simulator.url, { perKeyLimits: definition.perKeyLimits });
  const unexpectedExits = [];
  let nginxWorkerPids = [];
  const starting = startCluster({
    root,
    runDirectory,
    replicas: definition.replicas,
    gatewayConfig: gatewayConfig.path,
    redis: 'start',
    clusterMode: 'on',
    gatewayEnvironment: { NODE_ENV: 'production' },
    stopGraceMs: REPLICA_STOP_GRACE_MS,
    onUnexpectedExit: (managed, exit) => unexpectedExits.push({ name: managed.name, exit, stderrTail: managed.stderrTail }),
  });
  const removeStopHook = addStopHook({
    // Ctrl-C while the topology starts: let it finish starting (or fail, when it stops itself), then stop it.
    stop: () => starting.then((started) => started.close({ replicaGraceMs: REPLICA_STOP_GRACE_MS }), () => undefined),
    // The nginx master gets SIGKILL from killAllProcessesNow; its workers would outlive it.
    killNow: () => nginxWorkerPids.forEach((pid) => killQuietly(pid)),
  });
  let cluster;
  try {
    cluster = await starting;
  } catch (error) {
    removeStopHook();
    throw error;
  }
  nginxWorkerPids = childPids(cluster.nginx.process.pid);
  for (const url of [cluster.url, ...cluster.replicas.map((replica) => replica.url)]) requireLoopback(url);

  const replicas = cluster.replicas.map((replica) => ({
    name: replica.name,
    id: replica.id,
    url: replica.url,
    pid: replica.process.pid,
    log: watchLogLevels(replica.process.child.stdout, GATEWAY_LOG_MARKERS),
  }));
  const nginxLog = watchLogLevels(cluster.nginx.process.child.stderr, NGINX_LOG_MARKERS);
  const authorization = definition.perKeyLimits === undefined ? DEFAULT_AUTHORIZATION : 'Bearer bench-key';
  const system = {
    topology: name,
    simulator: servers.simulator,
    authorization,
    gateways: replicas,
    nginx: { pid: cluster.nginx.process.pid, workerPids: nginxWorkerPids, log: nginxLog },
    redis: { port: cluster.redis.port, pid: cluster.redis.process.pid },
    processes: [
      ...replicas.map((replica) => ({ name: replica.name, role: 'gateway', pid: replica.pid })),
      { name: 'nginx master', role: 'nginx', pid: cluster.nginx.process.pid },
      ...nginxWorkerPids.map((pid, index) => ({ name: `nginx worker ${index + 1}`, role: 'nginx', pid })),
      { name: 'redis-server', role: 'redis', pid: cluster.redis.process.pid },
      { name: 'simulator', role: 'simulator', pid: servers.simulator.pid },
      { name: 'embedded gateway (idle)', role: 'idle', pid: servers.gateway.pid },
    ],
    loadUrl: (scenario) => `${scenario.target === 'nginx' ? cluster.url : replicas[0].url}/v1/chat/completions`,
    exitedProcess: () => unexpectedExits[0] ?? exitedServer([servers.simulator, servers.gateway]),
    close: async () => {
      await cluster.close({ replicaGraceMs: REPLICA_STOP_GRACE_MS });
      removeStopHook();
    },
    describe: () => ({
      description: definition.description,
      replicas: definition.replicas,
      clusterMode: 'on (REDIS_URL set on every replica)',
      redis: { url: cluster.redis.url, pid: cluster.redis.process.pid, startedHere: true, persistence: 'none (--save "" --appendonly no)' },
      replicaProcesses: replicas.map(({ name, id, url, pid }) => ({ name, id, url, pid })),
      nginx: { url: cluster.url, masterPid: cluster.nginx.process.pid, workerPids: nginxWorkerPids, config: readFileSync(cluster.nginx.configPath, 'utf8') },
      gatewayConfig: gatewayConfig.text,
      gatewayEnvironment: { NODE_ENV: 'production', REDIS_URL: cluster.redis.url, DOSROUTER_REPLICA_ID: 'gateway-N' },
      authorization: authorization === DEFAULT_AUTHORIZATION ? 'Bearer sk-bench (ignored: no per-key limits)' : 'Bearer bench-key (the limited key)',
      sanity: system.sanity,
      logs: Object.fromEntries([
        ...replicas.map((replica) => [replica.name, logSummary(replica.log)]),
        ['nginx', logSummary(nginxLog)],
      ]),
    }),
  };
  try {
    system.sanity = await checkClusterSanity(system, cluster, definition);
  } catch (error) {
    await system.close();
    throw error;
  }
  return system;
}

function logSummary(watched) {
  return { ...watched.logCounts, firstProblemLines: watched.firstProblemLines };
}

function requireLoopback(url) {
  const { hostname } = new URL(url);
  if (hostname !== '127.0.0.1') throw new Error(`a cluster process announced ${url}; the benchmark only uses 127.0.0.1`);
}

function killQuietly(pid) {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/**
 * Before anything is measured: every replica answers 200 with its x-dosrouter-replica id, directly and through
 * nginx (which must reach every replica), each replica holds a connection to this topology's redis-server, and with
 * per-key limits the limiter's x-ratelimit headers are there.
 */
async function checkClusterSanity(system, cluster, definition) {
  const post = async (url) => {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: system.authorization },
      body: requestBody(false),
    });
    const text = await response.text();
    const replica = response.headers.get('x-dosrouter-replica');
    if (response.status !== 200 || replica === null) {
      throw new Error(
        `sanity check (${system.topology}): ${url} must answer 200 with an x-dosrouter-replica header; got ${response.status}, ` +
          `x-dosrouter-replica ${replica === null ? 'missing' : `"${replica}"`}. Body: ${text.slice(0, 500)}`,
      );
    }
    return { replica, rateLimitRequests: response.headers.get('x-ratelimit-limit-requests') };
  };

  for (const replica of system.gateways) {
    const answer = await post(replica.url);
    if (answer.replica !== replica.id) throw new Error(`sanity check (${system.topology}): ${replica.url} answered as "${answer.replica}", expected "${replica.id}"`);
    if (definition.perKeyLimits !== undefined && answer.rateLimitRequests !== String(definition.perKeyLimits.requestsPerMinute)) {
      throw new Error(`sanity check (${system.topology}): per-key limits are configured but ${replica.url} sent x-ratelimit-limit-requests ${answer.rateLimitRequests ?? 'missing'}`);
    }
  }

  // Ties in least_conn go round robin, so sequential requests visit every replica within a few tries.
  const seenThroughNginx = new Set();
  for (let attempt = 0; attempt < 4 * system.gateways.length && seenThroughNginx.size < system.gateways.length; attempt += 1) {
    seenThroughNginx.add((await post(cluster.url)).replica);
  }
  if (seenThroughNginx.size < system.gateways.length) {
    throw new Error(`sanity check (${system.topology}): through nginx only ${[...seenThroughNginx].join(', ')} answered, of ${system.gateways.map((replica) => replica.id).join(', ')}`);
  }

  const clients = Number((await readRedisInfo(system.redis.port, ['clients'])).connected_clients);
  if (!(clients >= system.gateways.length)) {
    throw new Error(`sanity check (${system.topology}): its redis-server has ${clients} client connections, fewer than the ${system.gateways.length} replicas`);
  }
  return { replicasAnsweringDirectly: system.gateways.map((replica) => replica.id), replicasSeenThroughNginx: [...seenThroughNginx].sort(), redisConnectedClients: clients };
}
