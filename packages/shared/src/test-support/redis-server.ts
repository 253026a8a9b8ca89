import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnRegistered } from '../../../../scripts/cluster/process-registry.mjs';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A redis-server of a test's own, on a free loopback port, for tests that stop or break Redis (the shared one
 * on 6379 is never stopped). It keeps nothing on disk. `stop` kills it; `start` brings it back on the same port.
 */
export class PrivateRedisServer {
  private child: ChildProcess | undefined;
  private disposed = false;
  /** Its working directory (`--dir`): removed by dispose, only once the server is dead. */
  private readonly directory = mkdtempSync(join(tmpdir(), 'dosrouter-redis-'));

  private constructor(
    readonly port: number,
    private readonly extraArguments: readonly string[],
  ) {}

  /** `extraArguments`: more redis-server options, e.g. ['--requirepass', 'secret']. */
  static async start(extraArguments: readonly string[] = []): Promise<PrivateRedisServer> {
    const server = new PrivateRedisServer(await freePort(), extraArguments);
    await server.start().catch(async (error: unknown) => {
      await server.dispose();
      throw error;
    });
    return server;
  }

  /** A Sentinel on a free port that monitors `master` under the name `masterName`. */
  static async startSentinel(master: PrivateRedisServer, masterName: string): Promise<PrivateRedisServer> {
    const port = await freePort();
    const server = new PrivateRedisServer(port, []);
    const configFile = join(server.directory, 'sentinel.conf');
    writeFileSync(
      configFile,
      [`port ${port}`, 'bind 127.0.0.1', `dir ${server.directory}`, `sentinel monitor ${masterName} 127.0.0.1 ${master.port} 1`, ''].join('\n'),
    );
    await server.launch([configFile, '--sentinel']).catch(async (error: unknown) => {
      await server.dispose();
      throw error;
    });
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    // A test body that runs on after its timeout must not start a server its clean-up has already passed.
    if (this.disposed) throw new Error(`redis-server on port ${this.port} was disposed; it cannot start again`);
    await this.launch(['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.directory, ...this.extraArguments]);
  }

  private async launch(argumentsList: readonly string[]): Promise<void> {
    // Registered: the test run kills it if its test's worker ends without stopping it (test/support/child-processes.*).
    const child = spawnRegistered('redis-server', argumentsList, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        // A server says it is ready; a sentinel says it monitors its master.
        if (output.includes('Ready to accept connections') || output.includes('+monitor master')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
      child.once('error', reject);
    });
    child.stdout!.resume();
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    // Killed by a signal, a child has a signalCode and no exitCode; its 'exit' has been emitted already.
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.stop();
    rmSync(this.directory, { recursive: true, force: true });
  }
}

/** A Redis Cluster of three masters (no replicas) on free loopback ports, for the tests that need one. */
export class PrivateRedisCluster {
  private constructor(readonly nodes: PrivateRedisServer[]) {}

  static async start(): Promise<PrivateRedisCluster> {
    const cluster = new PrivateRedisCluster([]);
    try {
      await cluster.create();
    } catch (error) {
      await cluster.dispose();
      throw error;
    }
    return cluster;
  }

  private async create(): Promise<void> {
    const { nodes } = this;
    for (let index = 0; index < 3; index += 1) {
      const port = await freePort();
      nodes.push(await PrivateRedisServer.start(['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000']));
    }
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes']);
    // Every node must agree that all slots are served before clients connect.
    const deadline = Date.now() + 10_000;
    for (const node of nodes) {
      while (!(await run('redis-cli', ['-p', String(node.port), 'cluster', 'info'])).includes('cluster_state:ok')) {
        if (Date.now() > deadline) throw new Error('the test Redis Cluster did not become ready');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  get startupNodes(): { host: string; port: number }[] {
    return this.nodes.map((node) => ({ host: '127.0.0.1', port: node.port }));
  }

  async dispose(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.dispose()));
  }
}

function run(command: string, argumentsList: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argumentsList, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`${command} exited with ${code}: ${output}`))));
  });
}
