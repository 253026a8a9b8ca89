import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';

/** Put before the scripts that check their arguments: the functions they share (a script cannot load another). */
const CHECK_ARGUMENTS = 'checkArguments.lua';

/**
 * The Lua scripts, loaded from their .lua files and registered with ioredis `defineCommand` under versioned
 * names, so two releases sharing a Redis during a rolling deploy never run each other's scripts. ioredis sends
 * EVALSHA and falls back to EVAL by itself. A list of files is registered as one script, in that order.
 */
const SCRIPT_FILES = {
  dosrouterAdmitRequestV3: [CHECK_ARGUMENTS, 'admitRequest.lua'],
  dosrouterCancelAdmissionV1: [CHECK_ARGUMENTS, 'cancelAdmission.lua'],
  dosrouterReleaseRequestV2: [CHECK_ARGUMENTS, 'releaseRequest.lua'],
  dosrouterShareDeploymentSlotsV1: [CHECK_ARGUMENTS, 'shareDeploymentSlots.lua'],
  dosrouterReadStatsV1: 'readStats.lua',
  dosrouterPublishWeightsV1: 'publishWeights.lua',
  dosrouterCloseCircuitAfterProbeV1: 'closeCircuitAfterProbe.lua',
  dosrouterAddSpendV1: 'addSpend.lua',
  dosrouterAggregateUsageV1: 'aggregateUsage.lua',
  dosrouterPutCacheEntryV1: 'putCacheEntry.lua',
  dosrouterGetCacheEntryV1: 'getCacheEntry.lua',
  dosrouterFlushCacheModelV1: 'flushCacheModel.lua',
  dosrouterHoldFlightLockV1: 'holdFlightLock.lua',
  dosrouterAppendFlightV1: 'appendFlight.lua',
} as const;

export type ScriptName = keyof typeof SCRIPT_FILES;

/** The script commands as ioredis adds them: the number of keys first, then keys, then arguments. */
export type ScriptCommands = {
  [name in ScriptName]: (numberOfKeys: number, ...keysAndArguments: (string | number | Buffer)[]) => Promise<unknown>;
};

const sources = new Map<ScriptName, string>();

export function scriptSource(name: ScriptName): string {
  let source = sources.get(name);
  if (source === undefined) {
    const files: readonly string[] = typeof SCRIPT_FILES[name] === 'string' ? [SCRIPT_FILES[name]] : SCRIPT_FILES[name];
    source = files.map((file) => readFileSync(new URL(`../lua/${file}`, import.meta.url), 'utf8')).join('\n');
    sources.set(name, source);
  }
  return source;
}

export function registerScripts<Client extends Redis | Cluster>(redis: Client): Client & ScriptCommands {
  for (const name of Object.keys(SCRIPT_FILES) as ScriptName[]) {
    if (!(name in redis)) redis.defineCommand(name, { lua: scriptSource(name) });
  }
  return redis as Client & ScriptCommands;
}
