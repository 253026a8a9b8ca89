// The cluster topology on one machine: redis-server (or a given Redis), the provider simulator as the backends,
// N health-prober processes, N gateway replicas, nginx in front.
// scripts/cluster.mjs runs it for people; test/cluster/support/ runs it for tests and breaks it on purpose.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderNginxConfig } from './nginx-config.mjs';
import { ManagedProcess, ProcessExitError, findExecutable, freePort, waitForHttpOk } from './processes.mjs';

const READY_TIMEOUT_MS = 20_000;
/** SIGTERM → SIGKILL deadline of a prober: it lets a probe under way finish (at most its timeoutMs) first. */
const PROBER_STOP_GRACE_MS = 15_000;
/** How many times a replacement replica tries its port while the replica it replaces is still letting go of it. */
const PORT_RETRY_ATTEMPTS = 20;
const PORT_RETRY_DELAY_MS = 100;

/**
 * Starts the topology and resolves once nginx answers and every replica and prober is ready.
 * On any failure while starting, whatever was started is stopped before the error is thrown.
 *
 * @param {import('./topology.d.mts').ClusterOptions} options
 * @returns {Promise<import('./topology.d.mts').Cluster>}
 */
export async function startCluster(options) {
  const cluster = new LocalCluster(options);
  try {
    await cluster.start();
  } catch (error) {
    await cluster.close({ replicaGraceMs: 2_000 });
    throw error;
  }
  return cluster;
}

class LocalCluster {
  constructor(options) {
    this.options = {
      replicas: 3,
      host: '127.0.0.1',
      port: 0,
      clusterMode: 'on',
      redis: 'start',
      keepLines: false,
      stopGraceMs: 35_000,
      prober: 0,
      // Without a config of its own, the topology is the cluster demo: the simulator process and config/cluster.yaml.
      simulator: options.gatewayConfig === undefined ? 'start' : 'none',
      // An option given as undefined keeps its default.
      ...Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)),
    };
    if (!Number.isInteger(this.options.replicas) || this.options.replicas < 1) throw new Error(`replicas must be a whole number >= 1, got ${this.options.replicas}`);
    if (!Number.isInteger(this.options.prober) || this.options.prober < 0) throw new Error(`prober must be a whole number >= 0, got ${this.options.prober}`);
    if (this.options.simulator !== 'start' && this.options.simulator !== 'none') throw new Error(`simulator must be "start" or "none", got ${this.options.simulator}`);
    this.runDirectory = this.options.runDirectory;
    this.gatewayMain = join(this.options.root, 'packages', 'gateway', 'dist', 'main.js');
    this.proberMain = join(this.options.root, 'packages', 'health-prober', 'dist', 'main.js');
    this.simulatorMain = join(this.options.root, 'packages', 'provider-sim', 'dist', 'main.js');
    this.gatewayConfig =
      this.options.gatewayConfig ?? (this.options.simulator === 'start' ? join(this.options.root, 'config', 'cluster.yaml') : undefined);
    this.mode = this.options.clusterMode === 'off' || this.options.redis === 'none' ? 'embedded' : 'cluster';
    this.replicas = [];
    /** Every replica process not yet exited, including replaced ones still draining. */
    this.replicaProcesses = new Set();
    /** Every replica process that became ready, with the id it had: who answered what, after restarts too. */
    this.replicaHistory = [];
    /** The health probers: none in embedded mode, where each replica probes in-process (the prober needs Redis). */
    this.probers = [];
    /** Every prober process not yet exited, including stopped ones still finishing a probe. */
    this.proberProcesses = new Set();
    /** Every prober process that became ready, with the id it had. */
    this.proberHistory = [];
    /** How each kind of member starts: its entry point, environment, the log line that says it listens, its books. */
    this.roles = {
      replica: { main: this.gatewayMain, environment: (member) => this.replicaEnvironment(member), readyLine: '"gateway listening"', processes: this.replicaProcesses, history: this.replicaHistory },
      prober: { main: this.proberMain, environment: (member) => this.proberEnvironment(member), readyLine: '"prober listening"', processes: this.proberProcesses, history: this.proberHistory },
    };
    this.simulator = undefined;
    this.redis = undefined;
    this.nginx = undefined;
    this.url = undefined;
    this.closing = undefined;
  }

  async start() {
    mkdirSync(this.runDirectory, { recursive: true });
    await Promise.all([this.startRedisIfWanted(), this.startSimulatorIfWanted()]);
    for (let index = 0; index < this.options.replicas; index += 1) {
      this.replicas.push({ index, name: `gateway-${index + 1}`, generation: 0, port: 0, url: undefined, id: undefined, process: undefined });
    }
    const probers = this.mode === 'cluster' && this.redis !== undefined ? this.options.prober : 0;
    for (let index = 0; index < probers; index += 1) {
      this.probers.push({ index, name: `prober-${index + 1}`, generation: 0, port: 0, url: undefined, id: undefined, process: undefined });
    }
    await Promise.all([
      ...this.probers.map((prober) => this.startProber(prober.index)),
      ...this.replicas.map((replica) => this.startReplica(replica.index)),
    ]);
    await this.startNginx();
  }

  /** The provider simulator process, on a free loopback port: the backends of config/cluster.yaml (SIMULATOR_URL). */
  async startSimulatorIfWanted() {
    if (this.options.simulator !== 'start') return;
    const simulatorProcess = this.track(
      new ManagedProcess({
        name: 'simulator',
        command: process.execPath,
        // Loopback only: its control API (/_sim/faults, /_sim/outage) takes no key.
        args: [this.simulatorMain, '--port', '0', '--host', '127.0.0.1'],
        environment: process.env,
        cwd: this.options.root,
        logFile: join(this.runDirectory, 'simulator.log'),
      }),
    );
    this.simulator = { url: undefined, process: simulatorProcess };
    const listening = await simulatorProcess.waitForLine((line) => line.includes('"provider simulator listening"'), READY_TIMEOUT_MS);
    this.simulator.url = JSON.parse(listening).url;
    await waitForHttpOk(`${new URL(this.simulator.url).origin}/healthz`, simulatorProcess, READY_TIMEOUT_MS);
    simulatorProcess.ready = true;
  }

  async startRedisIfWanted() {
    const { redis } = this.options;
    if (redis === 'start') {
      const port = await freePort();
      this.redis = { url: `redis://127.0.0.1:${port}`, port, started: true, process: undefined };
      await this.startRedis();
    } else if (redis !== undefined && redis !== 'none') {
      this.redis = { url: redis.url, port: Number(new URL(redis.url).port || 6379), started: false, process: undefined };
    }
  }

  /** (Re)starts the redis-server this topology owns, on its port, with nothing on disk. */
  async startRedis() {
    if (!this.redis?.started) throw new Error('this cluster did not start its own redis-server');
    if (this.redis.process?.running) return;
    const executable = findExecutable('redis-server', process.env.REDIS_SERVER);
    const directory = join(this.runDirectory, 'redis');
    mkdirSync(directory, { recursive: true });
    const redisProcess = this.track(
      new ManagedProcess({
        name: 'redis',
        command: executable,
        args: ['--port', String(this.redis.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', directory, '--daemonize', 'no'],
        environment: process.env,
        cwd: directory,
        logFile: join(this.runDirectory, 'redis.log'),
      }),
    );
    this.redis.process = redisProcess;
    await redisProcess.waitForLine((line) => line.includes('Ready to accept connections'), READY_TIMEOUT_MS);
    redisProcess.ready = true;
  }

  /** Stops this topology's own redis-server (SIGTERM: it exits at once; nothing is kept on disk). */
  async stopRedis() {
    if (!this.redis?.started) throw new Error('this cluster did not start its own redis-server');
    await this.redis.process?.stop({ signal: 'SIGTERM', timeoutMs: 5_000 });
  }

  /** What replicas and probers share: the config, its SIMULATOR_URL, and in cluster mode the Redis and its prefix. */
  configEnvironment() {
    const environment = { ...process.env, ...this.options.gatewayEnvironment };
    if (this.gatewayConfig !== undefined) environment.DOSROUTER_CONFIG = this.gatewayConfig;
    if (this.simulator?.url !== undefined) environment.SIMULATOR_URL = this.simulator.url;
    delete environment.REDIS_URL;
    delete environment.DOSROUTER_REDIS_PREFIX;
    if (this.mode === 'cluster' && this.redis !== undefined) {
      environment.REDIS_URL = this.redis.url;
      if (this.options.redisPrefix !== undefined) environment.DOSROUTER_REDIS_PREFIX = this.options.redisPrefix;
    }
    return environment;
  }

  replicaEnvironment(replica) {
    return {
      ...this.configEnvironment(),
      PORT: String(replica.port),
      HOST: this.options.host,
      DOSROUTER_REPLICA_ID: replica.id,
      // Embedded replicas each keep their keys and usage in a directory of their own (one gateway per directory),
      // the same for every restart of that replica; cluster mode keeps them in Redis.
      ...(this.mode === 'embedded' ? { DOSROUTER_DATA_DIR: join(this.runDirectory, 'data', replica.name) } : {}),
    };
  }

  proberEnvironment(prober) {
    return {
      ...this.configEnvironment(),
      // Loopback, whatever --host says: its /metrics and the queue UI are for this machine.
      PROBER_PORT: String(prober.port),
      PROBER_HOST: '127.0.0.1',
      DOSROUTER_PROBER_ID: prober.id,
    };
  }

  /**
   * Starts replica `index` (again): the first time on a free port, afterwards on the port it had, so that nginx's
   * config stays valid. Resolves once it is ready. Its replica id changes with every start (gateway-2, then
   * gateway-2.2, …): a new process is a new replica for the cluster's shared state.
   */
  async startReplica(index) {
    return this.startMember(this.replicaAt(index), this.roles.replica);
  }

  /**
   * Starts a replica's or a prober's slot (again), retrying while the process it replaces still holds the port.
   * Both are "members": a named slot whose process is started, killed and restarted with a new id on its port.
   */
  async startMember(member, role) {
    if (member.process?.running && !member.process.stopping) throw new Error(`${member.name} is still running (pid ${member.process.pid})`);
    member.generation += 1;
    member.id = member.generation === 1 ? member.name : `${member.name}.${member.generation}`;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.launchMember(member, role);
        return member;
      } catch (error) {
        const portTaken = error instanceof ProcessExitError && error.stderr.includes('EADDRINUSE') && member.port !== 0;
        if (!portTaken || attempt >= PORT_RETRY_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, PORT_RETRY_DELAY_MS));
      }
    }
  }

  async launchMember(member, role) {
    const memberProcess = this.track(
      new ManagedProcess({
        name: member.name,
        command: process.execPath,
        args: [role.main],
        environment: role.environment(member),
        cwd: this.options.root,
        logFile: join(this.runDirectory, `${member.name}.log`),
        keepLines: this.options.keepLines,
      }),
    );
    member.process = memberProcess;
    role.processes.add(memberProcess);
    void memberProcess.exited.then(() => role.processes.delete(memberProcess));
    const listening = await memberProcess.waitForLine((line) => line.includes(role.readyLine), READY_TIMEOUT_MS);
    const { url } = JSON.parse(listening);
    member.url = url;
    member.port = Number(new URL(url).port);
    await waitForHttpOk(`${url}/readyz`, memberProcess, READY_TIMEOUT_MS);
    memberProcess.ready = true;
    role.history.push({ name: member.name, id: member.id, process: memberProcess });
  }

  /** SIGKILL: the replica dies at once, mid-request, as in a crash or an OOM kill. */
  async killReplica(index) {
    const replicaProcess = this.replicaAt(index).process;
    return replicaProcess?.stop({ signal: 'SIGKILL' });
  }

  /** SIGTERM: the replica drains (not ready, listener closed, in-flight requests finish) and exits. */
  async stopReplica(index, { graceMs = this.options.stopGraceMs } = {}) {
    const replicaProcess = this.replicaAt(index).process;
    return replicaProcess?.stop({ signal: 'SIGTERM', timeoutMs: graceMs });
  }

  /**
   * A rolling-restart step: SIGTERM, and as soon as the old process has closed its listener (it goes on finishing
   * its requests) a new process takes the port. Resolves when the new one is ready and the old one has exited.
   */
  async restartReplica(index, { graceMs = this.options.stopGraceMs } = {}) {
    const stopped = this.stopReplica(index, { graceMs });
    const replacement = this.startReplica(index);
    const [exit] = await Promise.all([stopped, replacement]);
    return exit;
  }

  /**
   * Starts prober `index` (again): the first time on a free port, afterwards on the port it had. Resolves once it is
   * ready. Its id changes with every start (prober-1, then prober-1.2, …), as a replica's does.
   */
  async startProber(index) {
    return this.startMember(this.proberAt(index), this.roles.prober);
  }

  /** SIGKILL: the prober dies at once; BullMQ hands its probe jobs to another prober once their locks expire. */
  async killProber(index) {
    const proberProcess = this.proberAt(index).process;
    return proberProcess?.stop({ signal: 'SIGKILL' });
  }

  /** SIGTERM: the prober takes no new job, lets a probe under way finish, and exits. */
  async stopProber(index, { graceMs = PROBER_STOP_GRACE_MS } = {}) {
    const proberProcess = this.proberAt(index).process;
    return proberProcess?.stop({ signal: 'SIGTERM', timeoutMs: graceMs });
  }

  async startNginx() {
    const port = this.options.port === 0 ? await freePort(this.options.host) : this.options.port;
    const config = renderNginxConfig({
      target: 'local',
      listen: `${this.options.host}:${port}`,
      upstreams: this.replicas.map((replica) => `127.0.0.1:${replica.port}`),
      user: process.getuid?.() === 0 ? 'root' : undefined,
      ...this.options.nginx,
    });
    const directory = join(this.runDirectory, 'nginx');
    mkdirSync(directory, { recursive: true });
    const configPath = join(directory, 'nginx.conf');
    writeFileSync(configPath, config);
    const nginxProcess = this.track(
      new ManagedProcess({
        name: 'nginx',
        command: findExecutable('nginx', process.env.NGINX),
        args: ['-p', `${directory}/`, '-c', configPath, '-e', 'stderr'],
        environment: process.env,
        cwd: directory,
        logFile: join(this.runDirectory, 'nginx-error.log'),
      }),
    );
    const displayHost = this.options.host === '0.0.0.0' ? '127.0.0.1' : this.options.host;
    this.url = `http://${displayHost}:${port}`;
    this.nginx = { process: nginxProcess, port, url: this.url, configPath, accessLogPath: join(directory, 'access.log') };
    await waitForHttpOk(`${this.url}/nginx-health`, nginxProcess, READY_TIMEOUT_MS);
    nginxProcess.ready = true;
  }

  /** Reports a child that exits without having been asked to, once it was ready (before that, its starter throws). */
  track(managed) {
    // A start that comes after close() (a test body that runs on after its timeout) would leave a process nothing
    // stops, in a run directory about to be deleted.
    if (this.closing !== undefined) {
      managed.killGroup();
      throw new Error(`${managed.name} was started after the cluster was closed`);
    }
    void managed.exited.then((exit) => {
      if (managed.ready && !managed.stopping && this.closing === undefined) this.options.onUnexpectedExit?.(managed, exit);
    });
    return managed;
  }

  replicaAt(index) {
    const replica = this.replicas[index];
    if (replica === undefined) throw new Error(`no replica ${index} (the cluster has ${this.replicas.length})`);
    return replica;
  }

  proberAt(index) {
    const prober = this.probers[index];
    if (prober === undefined) throw new Error(`no prober ${index} (the cluster has ${this.probers.length})`);
    return prober;
  }

  /**
   * Stops everything in order: the replicas drain (SIGTERM) and the probers stop (SIGTERM) together, then nginx stops
   * gracefully (SIGQUIT), then the simulator (the backends of the streams that just drained), then the redis-server
   * this topology started. Safe to call more than once and after a failed start.
   */
  close({ replicaGraceMs = this.options.stopGraceMs } = {}) {
    this.closing ??= (async () => {
      await Promise.all([
        ...[...this.replicaProcesses].map((replicaProcess) => replicaProcess.stop({ signal: 'SIGTERM', timeoutMs: replicaGraceMs })),
        ...[...this.proberProcesses].map((proberProcess) => proberProcess.stop({ signal: 'SIGTERM', timeoutMs: PROBER_STOP_GRACE_MS })),
      ]);
      await this.nginx?.process.stop({ signal: 'SIGQUIT', timeoutMs: 5_000 });
      await this.simulator?.process.stop({ signal: 'SIGTERM', timeoutMs: 5_000 });
      if (this.redis?.started) await this.redis.process?.stop({ signal: 'SIGTERM', timeoutMs: 5_000 });
    })();
    return this.closing;
  }

  /** A plain description of what runs where, for people (pnpm cluster) and for test failure messages. */
  describe() {
    return {
      url: this.url,
      mode: this.mode,
      runDirectory: this.runDirectory,
      nginx: this.nginx && { url: this.nginx.url, pid: this.nginx.process.pid, config: this.nginx.configPath, accessLog: this.nginx.accessLogPath },
      config: this.gatewayConfig,
      replicas: this.replicas.map((replica) => ({ name: replica.name, id: replica.id, url: replica.url, pid: replica.process?.pid, running: replica.process?.running ?? false })),
      probers: this.probers.map((prober) => ({ name: prober.name, id: prober.id, url: prober.url, pid: prober.process?.pid, running: prober.process?.running ?? false })),
      simulator: this.simulator && { url: this.simulator.url, pid: this.simulator.process.pid, running: this.simulator.process.running },
      redis: this.redis && {
        url: withoutPassword(this.redis.url),
        startedHere: this.redis.started,
        pid: this.redis.process?.pid,
        prefix: this.options.redisPrefix,
        usedByReplicas: this.mode === 'cluster',
      },
    };
  }
}

/** A Redis URL fit to print: its password, if any, masked. */
function withoutPassword(url) {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
