// Where one request's time goes inside a server process, stage by stage: loaded with `node --import` into the
// gateway (or the simulator), it timestamps what Node and undici publish on diagnostics channels (the request
// parsed, the upstream request created, its headers sent, the upstream answer's headers and end, the response
// finished) and the file writes that follow an answer (the usage journal's FileHandle.write, the log's fs.write to
// stdout: issued and completed). Meant for one request in flight (`ab-gateway.mjs --connections 1 --node-arg
// --import=…/stage-clock.mjs`), where the events of one request never interleave with another's. At exit it
// writes the median of each interval to $DOSROUTER_STAGES_OUT.<pid>.json (nothing when that variable is unset).
import diagnostics from 'node:diagnostics_channel';
import { appendFileSync } from 'node:fs';
import fs from 'node:fs';
import { open } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { performance } from 'node:perf_hooks';

const OUT = process.env.DOSROUTER_STAGES_OUT;
const CAPACITY = 2_000_000;
const codes = new Uint8Array(CAPACITY);
const times = new Float64Array(CAPACITY);
let count = 0;
const NAMES = [];

function mark(name) {
  let code = NAMES.indexOf(name);
  if (code === -1) code = NAMES.push(name) - 1;
  return () => {
    if (count === CAPACITY) return;
    codes[count] = code;
    times[count++] = performance.now();
  };
}

if (OUT) {
  const channels = {
    'http.server.request.start': 'request parsed',
    'undici:request:create': 'upstream request created',
    'undici:client:sendHeaders': 'upstream headers sent',
    'undici:request:headers': 'upstream answer headers',
    'undici:request:trailers': 'upstream answer end',
    'http.server.response.finish': 'response finished',
  };
  for (const [channel, name] of Object.entries(channels)) diagnostics.subscribe(channel, mark(name));

  // The answer's head and last bytes handed to the client's socket.
  const { ServerResponse } = await import('node:http');
  const originalEnd = ServerResponse.prototype.end;
  const endCalled = mark('response end called');
  const endReturned = mark('response end returned');
  // What the loop does after the answer: the work of that turn ends where the check phase (setImmediate) begins.
  const checkPhase = mark('check phase after the answer');
  ServerResponse.prototype.end = function end(...args) {
    endCalled();
    const result = originalEnd.apply(this, args);
    endReturned();
    setImmediate(checkPhase);
    return result;
  };

  // The log's lines to stdout (FdDestination: fs.write on the thread pool).
  const originalWrite = fs.write;
  const logWriteIssued = mark('log write issued');
  const logWriteDone = mark('log write done');
  fs.write = function write(fd, ...rest) {
    if (fd !== 1) return originalWrite.call(this, fd, ...rest);
    logWriteIssued();
    const callback = rest.pop();
    return originalWrite.call(this, fd, ...rest, (...results) => {
      logWriteDone();
      callback(...results);
    });
  };
  syncBuiltinESMExports();

  // The usage journal's appends (FileHandle.write on the thread pool).
  const probe = await open('/dev/null', 'r');
  const prototype = Object.getPrototypeOf(probe);
  await probe.close();
  const originalHandleWrite = prototype.write;
  const journalWriteIssued = mark('journal write issued');
  const journalWriteDone = mark('journal write done');
  prototype.write = function write(...args) {
    journalWriteIssued();
    return originalHandleWrite.apply(this, args).finally(journalWriteDone);
  };

  process.once('exit', () => {
    // For each request: every later event's offset from its "request parsed" (until the next request), the
    // time from its last bytes handed to the socket to the next request parsed, and each write's issue to done.
    const offsets = new Map();
    const add = (name, value) => {
      let list = offsets.get(name);
      if (!list) offsets.set(name, (list = []));
      list.push(value);
    };
    const code = (name) => NAMES.indexOf(name);
    const requestCode = code('request parsed');
    const endCode = code('response end returned');
    const issued = new Map([
      [code('log write issued'), { done: code('log write done'), name: 'log write issued → done', at: -1 }],
      [code('journal write issued'), { done: code('journal write done'), name: 'journal write issued → done', at: -1 }],
    ]);
    const doneCodes = new Set([...issued.values()].map((write) => write.done));
    let start = -1;
    let lastEnd = -1;
    for (let index = 0; index < count; index += 1) {
      const at = times[index];
      for (const write of issued.values()) if (codes[index] === write.done && write.at >= 0) add(write.name, at - write.at);
      issued.get(codes[index]) && (issued.get(codes[index]).at = at);
      if (codes[index] === requestCode) {
        if (lastEnd >= 0) add('response end returned → next request parsed', at - lastEnd);
        start = at;
        continue;
      }
      // A write's completion lands in whichever request is under way then: only its issue-to-done time counts.
      if (start < 0 || doneCodes.has(codes[index])) continue;
      if (codes[index] === endCode) lastEnd = at;
      add(`request parsed → ${NAMES[codes[index]]}`, at - start);
    }
    const median = (list) => list.sort((a, b) => a - b)[Math.floor(list.length / 2)];
    const result = {};
    for (const [name, list] of offsets) result[name] = { medianMs: Number(median(list).toFixed(4)), count: list.length };
    appendFileSync(`${OUT}.${process.pid}.json`, `${JSON.stringify({ pid: process.pid, argv: process.argv.slice(1, 2), events: count, stages: result })}\n`);
  });
}
