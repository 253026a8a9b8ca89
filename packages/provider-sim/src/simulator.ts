import { readFileSync } from 'node:fs';
import type { ServerOptions } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { parseSimulatorOptions } from './config/parse-simulator-options.js';
import { TimerWheel } from './delivery/timer-wheel.js';
import { FaultSchedule } from './faults/fault-schedule.js';
import { createSimulatorServer, type SimulatorServer } from './http/protocol-server.js';
import { createRequestListener } from './server.js';
import { IdGenerator } from './state/id-generator.js';
import { PromptCache } from './state/prompt-cache.js';
import { RequestRecorder } from './state/request-recorder.js';
import { injectFault, readStats, resetState, setOutage } from './state/simulator-controls.js';
import type { SimulatorState } from './state/simulator-state.js';
import { StatsCounter } from './state/simulator-stats.js';
import { UsageLedger } from './state/usage-ledger.js';
import type {
  FaultInjection,
  Outage,
  RecordedRequest,
  Simulator,
  SimulatorOptions,
  SimulatorStats,
  UsageTotals,
} from './types.js';

class RunningSimulator implements Simulator {
  readonly baseUrl: string;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly listener: SimulatorServer,
    private readonly state: SimulatorState,
    readonly port: number,
    host: string,
    scheme: 'http' | 'https',
  ) {
    const urlHost = host.includes(':') ? `[${host}]` : host;
    this.baseUrl = `${scheme}://${urlHost}:${port}/v1`;
  }

  get stats(): SimulatorStats {
    return readStats(this.state);
  }

  injectFaults(fault: FaultInjection): void {
    injectFault(this.state, fault);
  }

  clearFaults(): void {
    this.state.faults.clear();
  }

  get outage(): Outage | undefined {
    // A copy, like stats: a caller editing what it read must not change the running outage.
    return this.state.outage === undefined ? undefined : { ...this.state.outage };
  }

  setOutage(outage: Outage | undefined): void {
    setOutage(this.state, outage);
  }

  recentRequests(): RecordedRequest[] {
    return this.state.recorder.list();
  }

  usageByRequestId(): Record<string, UsageTotals> {
    return this.state.usage.snapshotByRequestId();
  }

  reset(): void {
    resetState(this.state);
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve, reject) => {
      this.listener.server.close((error) => (error === undefined ? resolve() : reject(error)));
      // Hung and stalled exchanges would keep close() waiting forever: drop every connection, busy or idle.
      this.listener.closeAllConnections();
    });
    return this.closing;
  }
}

/**
 * Nothing on the simulator's side may cut or cap long streams or many connections: Node's defaults end a request
 * that takes more than 300 s to arrive (requestTimeout) or whose headers take 60 s (headersTimeout, which a server
 * checks on a timer over all its connections), and close a keep-alive connection idle for 5 s (keepAliveTimeout,
 * shorter than the gateway's pool keeps one, so a request could race the close). The simulator serves tests and
 * benchmarks on trusted loopback, so none of them is needed. maxConnections stays unset: no cap.
 */
const SERVER_OPTIONS: ServerOptions = {
  requestTimeout: 0,
  headersTimeout: 0,
  keepAliveTimeout: 120_000,
};

/**
 * Connections waiting to be accepted. Node's default, 511, overflows when thousands of streams open at once, and the
 * dropped SYNs come back 1 s later as a time-to-first-byte the backend did not cause. The kernel caps it at
 * net.core.somaxconn.
 */
const LISTEN_BACKLOG = 65_535;

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen({ host, port, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', onError);
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('the simulator server is not listening on a TCP port'));
        return;
      }
      resolve(address);
    });
  });
}

/** Starts an OpenAI-compatible simulator; options are validated first and an error names any bad field. */
export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const resolved = parseSimulatorOptions(options);
  const clock = (): number => Date.now();
  const state: SimulatorState = {
    options: resolved,
    faults: new FaultSchedule(resolved.seed),
    outage: undefined,
    stats: new StatsCounter(),
    usage: new UsageLedger(),
    recorder: new RequestRecorder(resolved.recordRequests),
    promptCache: new PromptCache(clock),
    ids: new IdGenerator(resolved.seed),
    wheel: new TimerWheel(),
    clock,
    startedAtSeconds: Math.floor(clock() / 1000),
  };
  const tls = resolved.tls && { cert: readFileSync(resolved.tls.certFile, 'utf8'), key: readFileSync(resolved.tls.keyFile, 'utf8') };
  const listener = createSimulatorServer(SERVER_OPTIONS, createRequestListener(state), resolved.http2, tls);
  const address = await listen(listener.server, resolved.host, resolved.port);
  return new RunningSimulator(listener, state, address.port, resolved.host, tls === undefined ? 'http' : 'https');
}
