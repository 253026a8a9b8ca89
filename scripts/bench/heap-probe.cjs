// Preloaded into the gateway by scripts/bench/stream-heap.mjs (NODE_OPTIONS=--require): on SIGUSR2 it writes the
// process's memory figures (process.memoryUsage, V8's heap spaces) and then a heap snapshot, both into
// HEAP_PROBE_DIR, named by the label the harness wrote to <dir>/label. Not loaded in production.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const v8 = require('node:v8');

const directory = process.env.HEAP_PROBE_DIR;
if (directory) {
  process.on('SIGUSR2', () => {
    // "<label>" or "<label> figures" (the figures only, no snapshot).
    const [label, figuresOnly] = readFileSync(join(directory, 'label'), 'utf8').trim().split(' ');
    const figures = { memoryUsage: process.memoryUsage(), heapSpaces: v8.getHeapSpaceStatistics(), heap: v8.getHeapStatistics() };
    if (!figuresOnly) v8.writeHeapSnapshot(join(directory, `${label}.heapsnapshot`));
    // After the snapshot, which collects garbage first: the figures both before and after that collection.
    figures.afterSnapshot = { memoryUsage: process.memoryUsage(), heap: v8.getHeapStatistics() };
    writeFileSync(join(directory, `${label}.json`), JSON.stringify(figures));
  });
}
