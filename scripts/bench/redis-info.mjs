import { connect } from 'node:net';

/** A Redis that does not answer INFO within this is stuck or gone; the benchmark stops rather than wait. */
const INFO_TIMEOUT_MS = 2_000;

/**
 * Sends one `INFO <sections…>` to the redis-server on 127.0.0.1:`port` over a fresh connection (plain RESP, no client
 * library) and resolves with its fields as strings. Read-only: it never writes a key.
 */
export function readRedisInfo(port, sections) {
  const words = ['INFO', ...sections];
  const command = `*${words.length}\r\n${words.map((word) => `$${Buffer.byteLength(word)}\r\n${word}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    const finish = (settle) => {
      clearTimeout(timer);
      socket.destroy();
      settle();
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`redis-server on port ${port} did not answer INFO within ${INFO_TIMEOUT_MS} ms`))), INFO_TIMEOUT_MS);
    socket.once('error', (error) => finish(() => reject(new Error(`INFO to redis-server on port ${port} failed: ${error.message}`))));
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      const headerEnd = received.indexOf('\r\n');
      if (headerEnd === -1) return;
      const header = received.subarray(0, headerEnd).toString();
      if (!header.startsWith('$')) {
        finish(() => reject(new Error(`INFO to redis-server on port ${port} answered "${header}"`)));
        return;
      }
      const length = Number(header.slice(1));
      if (received.length < headerEnd + 2 + length) return;
      const text = received.subarray(headerEnd + 2, headerEnd + 2 + length).toString();
      finish(() => resolve(parseInfo(text)));
    });
    socket.write(command);
  });
}

function parseInfo(text) {
  const fields = {};
  for (const line of text.split('\r\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    fields[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return fields;
}

/** Calls per command name from `INFO commandstats` (`cmdstat_evalsha:calls=12,usec=…`). */
export function commandCalls(info) {
  const calls = {};
  for (const [field, value] of Object.entries(info)) {
    if (!field.startsWith('cmdstat_')) continue;
    const match = /(?:^|,)calls=(\d+)/.exec(value);
    if (match) calls[field.slice('cmdstat_'.length)] = Number(match[1]);
  }
  return calls;
}

/**
 * What Redis did between two `INFO stats commandstats` readings, per request. Redis counts the commands that a Lua
 * script runs as commands too (in commandstats and in total_commands_processed), so one limiter call shows up as one
 * evalsha plus the commands inside it: `scriptCallsPerRequest` is the number of script round trips, and
 * `commandsPerRequest` everything Redis executed. The harness's own INFO calls are left out.
 */
export function redisWorkPerRequest(before, after, requests) {
  const callsBefore = commandCalls(before);
  const callsAfter = commandCalls(after);
  const perRequest = (count) => (requests > 0 ? count / requests : undefined);
  const callsPerRequestByCommand = {};
  for (const [command, calls] of Object.entries(callsAfter)) {
    const delta = calls - (callsBefore[command] ?? 0);
    if (command !== 'info' && delta > 0) callsPerRequestByCommand[command] = perRequest(delta);
  }
  const infoCalls = (callsAfter.info ?? 0) - (callsBefore.info ?? 0);
  const scriptCalls = ['evalsha', 'eval', 'fcall'].reduce((sum, command) => sum + (callsAfter[command] ?? 0) - (callsBefore[command] ?? 0), 0);
  return {
    commandsPerRequest: perRequest(Number(after.total_commands_processed) - Number(before.total_commands_processed) - infoCalls),
    scriptCallsPerRequest: perRequest(scriptCalls),
    callsPerRequestByCommand,
  };
}
