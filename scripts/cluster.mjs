// `pnpm cluster`: the cluster topology on this machine — redis-server, the provider simulator, health prober(s),
// N gateway replicas, nginx in front — supervised until Ctrl-C or SIGTERM, then stopped in order.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { killAllProcessesNow } from './cluster/processes.mjs';
import { startCluster } from './cluster/topology.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Marks a run directory as this script's, so that a later run may empty it (and never any other directory). */
const RUN_DIRECTORY_MARKER = '.dosrouter-cluster';

const USAGE = `usage: pnpm cluster [options]        (builds first; or: node scripts/cluster.mjs [options])

Starts DOSRouter's cluster topology on this machine and supervises it:
  redis-server   on a free loopback port, nothing on disk (skipped when REDIS_URL is set: that Redis is used)
  simulator      packages/provider-sim/dist/main.js on a free loopback port: the backends of config/cluster.yaml
                 (SIMULATOR_URL), started unless --config names another config (then only with --simulator)
  prober × N     packages/health-prober/dist/main.js on free loopback ports: probes the backends, publishes the
                 routing weights in Redis; /healthz, /readyz, /metrics (and /admin/queues with DOSROUTER_ADMIN_KEY)
  gateway × N    packages/gateway/dist/main.js on free loopback ports, REDIS_URL and the prefix set
  nginx          the load balancer on --port, in front of the replicas (config: scripts/cluster/nginx-config.mjs)

  --replicas N      gateway replicas (default 3)
  --probers N       health-prober processes (default 1; 0: none, the replicas route on configured weights)
  --port N          nginx's port, the entry point (default 8080)
  --host H          nginx's listen address (default 127.0.0.1)
  --config FILE     config of every replica and prober (default: config/cluster.yaml, with the simulator)
  --simulator       start the simulator and set SIMULATOR_URL with --config too
  --prefix P        Redis key prefix (DOSROUTER_REDIS_PREFIX; default: the gateway's own)
  --embedded        run the replicas without REDIS_URL: each keeps its own in-memory state (no shared limits,
                    breakers or stats) and probes in-process; no prober; to tell whether a problem is in the
                    topology or in the shared state
  --keep-going      when a child dies unexpectedly, report it and keep the rest running (default: stop everything)
  --json            print the topology as one JSON document instead of a table
  --dir DIR         run directory: configs, logs, nginx temp files (default .cluster/<port>); emptied at start
                    when a previous run made it, refused when it holds anything else
  -h, --help        this text

Logs: <dir>/gateway-N.log, prober-N.log (JSON lines), nginx-error.log, nginx/access.log (JSON lines), simulator.log,
redis.log.
Ctrl-C or SIGTERM: the replicas drain (SIGTERM; in-flight streams finish) and the probers stop, then nginx, then the
simulator, then redis-server; exit 0.`;

function parseOptions() {
  const { values } = parseArgs({
    options: {
      replicas: { type: 'string', default: '3' },
      probers: { type: 'string', default: '1' },
      simulator: { type: 'boolean', default: false },
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      config: { type: 'string' },
      prefix: { type: 'string' },
      embedded: { type: 'boolean', default: false },
      'keep-going': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      dir: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const whole = (name, minimum, maximum) => {
    const number = Number(values[name]);
    if (!Number.isInteger(number) || number < minimum || number > maximum) {
      throw new Error(`--${name} must be a whole number from ${minimum} to ${maximum}, got "${values[name]}"`);
    }
    return number;
  };
  const port = whole('port', 1, 65_535);
  return {
    replicas: whole('replicas', 1, 64),
    probers: whole('probers', 0, 16),
    simulator: values.simulator,
    port,
    host: values.host,
    config: values.config === undefined ? undefined : resolve(values.config),
    prefix: values.prefix,
    embedded: values.embedded,
    keepGoing: values['keep-going'],
    json: values.json,
    runDirectory: resolve(values.dir ?? join(ROOT, '.cluster', String(port))),
  };
}

function formatTable(description) {
  const rows = [['entry', description.url, `nginx, pid ${description.nginx.pid}`]];
  for (const replica of description.replicas) rows.push([replica.name, replica.url, `pid ${replica.pid}, replica id ${replica.id}`]);
  for (const prober of description.probers) rows.push([prober.name, prober.url, `pid ${prober.pid}, health prober: /metrics, /readyz`]);
  if (description.probers.length === 0) {
    const why = description.mode === 'embedded' ? 'embedded mode: each replica probes in-process' : '--probers 0: configured weights';
    rows.push(['prober', '-', `none (${why})`]);
  }
  if (description.simulator) rows.push(['simulator', description.simulator.url, `provider simulator, pid ${description.simulator.pid} (SIMULATOR_URL)`]);
  if (description.redis) {
    const owner = description.redis.startedHere ? `redis-server started here, pid ${description.redis.pid}, nothing on disk` : 'REDIS_URL';
    const prefix = description.redis.prefix === undefined ? '' : `, prefix "${description.redis.prefix}"`;
    rows.push(['redis', description.redis.url, `${owner}${prefix}`]);
  }
  rows.push(['config', description.config ?? '(the gateway default)', 'every replica and prober']);
  rows.push(['logs', description.runDirectory, 'gateway-N.log, prober-N.log, simulator.log, nginx-error.log, nginx/access.log, redis.log']);
  const width = Math.max(...rows.map(([name]) => name.length));
  const urlWidth = Math.max(...rows.map(([, url]) => url.length));
  const probers = description.probers.length === 1 ? '1 prober' : `${description.probers.length} probers`;
  const lines = [`DOSRouter cluster is up: ${description.replicas.length} replicas, ${probers}, ${description.mode} mode`];
  for (const [name, url, detail] of rows) lines.push(`  ${name.padEnd(width)}  ${url.padEnd(urlWidth)}  ${detail}`);
  lines.push(`Try: curl ${description.url}/v1/models      Ctrl-C stops everything (the replicas drain first).`);
  return lines.join('\n');
}

function shout(message) {
  process.stderr.write(`\ndosrouter cluster: !!! ${message}\n`);
}

/** Empties the run directory of a previous run; refuses a directory with other content. */
function prepareRunDirectory(directory) {
  if (existsSync(directory) && readdirSync(directory).length > 0) {
    if (!existsSync(join(directory, RUN_DIRECTORY_MARKER))) {
      throw new Error(`--dir ${directory} is not empty and was not made by this script: refusing to empty it`);
    }
    rmSync(directory, { recursive: true, force: true });
  }
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, RUN_DIRECTORY_MARKER), 'Made by scripts/cluster.mjs, which empties this directory at its next start.\n');
}

async function main() {
  const options = parseOptions();
  prepareRunDirectory(options.runDirectory);
  let cluster;
  let stopping;
  const stop = async (code) => {
    stopping ??= (async () => {
      await cluster?.close();
      process.exit(code);
    })();
    return stopping;
  };
  process.once('exit', killAllProcessesNow);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      if (stopping !== undefined) {
        // A second Ctrl-C: stop waiting for drains.
        killAllProcessesNow();
        process.exit(130);
      }
      process.stderr.write(`\ndosrouter cluster: ${signal}: stopping (the replicas drain first; again to kill at once)\n`);
      void stop(0);
    });
  }

  cluster = await startCluster({
    root: ROOT,
    runDirectory: options.runDirectory,
    replicas: options.replicas,
    prober: options.probers,
    simulator: options.config === undefined || options.simulator ? 'start' : 'none',
    host: options.host,
    port: options.port,
    gatewayConfig: options.config,
    redis: options.embedded ? 'none' : process.env.REDIS_URL ? { url: process.env.REDIS_URL } : 'start',
    redisPrefix: options.prefix,
    clusterMode: options.embedded ? 'off' : 'on',
    onUnexpectedExit: (child, exit) => {
      const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
      shout(`${child.name} (pid ${child.pid}) ${how}, unexpectedly.${child.stderrTail.trim() ? ` Its last stderr:\n${child.stderrTail.trim()}` : ''}`);
      if (options.keepGoing) {
        process.stderr.write('dosrouter cluster: --keep-going: the rest keeps running.\n');
        return;
      }
      process.stderr.write('dosrouter cluster: stopping everything (--keep-going keeps the rest running).\n');
      void stop(1);
    },
  });
  const description = cluster.describe();
  console.log(options.json ? JSON.stringify(description, null, 2) : formatTable(description));
}

main().catch((error) => {
  process.stderr.write(`dosrouter cluster: ${error instanceof Error ? error.message : String(error)}\n`);
  killAllProcessesNow();
  process.exit(1);
});
