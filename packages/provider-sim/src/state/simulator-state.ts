import type { ResolvedOptions } from '../config/parse-simulator-options.js';
import type { TimerWheel } from '../delivery/timer-wheel.js';
import type { FaultSchedule } from '../faults/fault-schedule.js';
import type { Outage } from '../types.js';
import type { IdGenerator } from './id-generator.js';
import type { PromptCache } from './prompt-cache.js';
import type { RequestRecorder } from './request-recorder.js';
import type { StatsCounter } from './simulator-stats.js';
import type { UsageLedger } from './usage-ledger.js';

/** Everything the route handlers share; built once per simulator. */
export interface SimulatorState {
  options: ResolvedOptions;
  faults: FaultSchedule;
  /** Set while the whole backend is simulated as down; undefined while it is up. */
  outage: Outage | undefined;
  stats: StatsCounter;
  /** The usage reported to clients; reset with the stats. */
  usage: UsageLedger;
  recorder: RequestRecorder;
  /** The prompt prefixes cached for Messages `cache_control` and OpenAI's automatic caching; reset with the stats. */
  promptCache: PromptCache;
  ids: IdGenerator;
  /** The one timer every wait of every exchange is scheduled on. */
  wheel: TimerWheel;
  /** Epoch milliseconds; injected so nothing deep in the handlers reads the wall clock itself. */
  clock: () => number;
  /** Epoch seconds the simulator started: the `created` of every listed model. */
  startedAtSeconds: number;
}
