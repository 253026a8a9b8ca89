// Reads a V8 heap snapshot and sums every node's self size by constructor and by the part of a proxied stream it
// belongs to (scripts/bench/stream-heap.mjs compares two such sums). A node's part is that of its nearest owner
// with a known constructor, found by walking up one retainer at a time (the first strong one V8 lists): an
// approximation, since a node with several retainers counts once, for the first.
import { readFileSync } from 'node:fs';

/** Constructors that name a part, checked from the node up; the first match on the way to the roots wins. */
const OWNERS = new Map([
  ['SseScanner', 'stream relay: SSE scanner, token estimate'],
  ['StreamRelay', 'stream relay: SSE scanner, token estimate'],
  ['StreamedChoice', 'stream relay: SSE scanner, token estimate'],
  ['UpstreamResponse', 'upstream request (undici request, response body, HTTP/2 stream)'],
  ['UnwrapController', 'upstream request (undici request, response body, HTTP/2 stream)'],
  ['RequestContext', 'RequestContext, limits, plan'],
  ['RequestLimits', 'RequestContext, limits, plan'],
  ['JsonShapeScanner', 'request body reading (shape scanner, chunks)'],
  ['IncomingMessage', 'client request/response (node:http + express)'],
  ['ServerResponse', 'client request/response (node:http + express)'],
  ['HTTPParser', 'client socket (net.Socket, TCP handle, HTTP parser)'],
  ['Client', 'upstream connection (undici Client, its socket and parser)'],
  ['Parser', 'upstream connection (undici Client, its socket and parser)'],
  ['ClientHttp2Session', 'upstream connection (undici Client, its socket and parser)'],
  ['ClientHttp2Stream', 'upstream request (undici request, response body, HTTP/2 stream)'],
  ['Request', 'upstream request (undici request, response body, HTTP/2 stream)'],
  ['RequestHandler', 'upstream request (undici request, response body, HTTP/2 stream)'],
  ['BodyReadable', 'upstream request (undici request, response body, HTTP/2 stream)'],
  ['AbortController', 'AbortControllers and signals'],
  ['AbortSignal', 'AbortControllers and signals'],
  ['Timeout', 'timers'],
  ['FastTimer', 'timers'],
  ['Generator', 'suspended async functions (frames) and their closures'],
  ['createAsyncIterator', 'suspended async functions (frames) and their closures'],
]);

/** What is shared by every stream's owner rather than being one: the walk goes past these. */
const PASS_THROUGH = /^(?:Object|Array|system \/ Context|Map|Set|Promise|ReadableState|WritableState|Buffer|Uint8Array|ArrayBuffer|Int32Array|EventEmitter|\(.*\))$/;

/**
 * @returns {{ total: number, byConstructor: Map<string, {size: number, count: number}>, byPart: Map<string, {size: number, count: number}>, byPartAndConstructor: Map<string, {size: number, count: number}> }}
 */
export function readHeapParts(path) {
  const snapshot = JSON.parse(readFileSync(path, 'utf8'));
  const meta = snapshot.snapshot.meta;
  const nodeWidth = meta.node_fields.length;
  const edgeWidth = meta.edge_fields.length;
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const { nodes, edges, strings } = snapshot;
  const count = nodes.length / nodeWidth;
  const typeAt = meta.node_fields.indexOf('type');
  const nameAt = meta.node_fields.indexOf('name');
  const sizeAt = meta.node_fields.indexOf('self_size');
  const edgeCountAt = meta.node_fields.indexOf('edge_count');
  const edgeTypeAt = meta.edge_fields.indexOf('type');
  const edgeToAt = meta.edge_fields.indexOf('to_node');

  const typeOf = (node) => nodeTypes[nodes[node * nodeWidth + typeAt]];
  const nameOf = (node) => strings[nodes[node * nodeWidth + nameAt]];
  // The first strong retainer of each node; -1 for the roots.
  const retainer = new Int32Array(count).fill(-1);
  let edge = 0;
  for (let node = 0; node < count; node += 1) {
    const edgeCount = nodes[node * nodeWidth + edgeCountAt];
    for (let index = 0; index < edgeCount; index += 1, edge += edgeWidth) {
      const edgeType = edgeTypes[edges[edge + edgeTypeAt]];
      if (edgeType === 'weak' || edgeType === 'shortcut') continue;
      const to = edges[edge + edgeToAt] / nodeWidth;
      if (retainer[to] === -1 && to !== node) retainer[to] = node;
    }
  }

  const partOf = new Map();
  const ownerPart = (node) => {
    const type = typeOf(node);
    if (type !== 'object' && type !== 'closure') return undefined;
    const name = nameOf(node);
    if (OWNERS.has(name)) return OWNERS.get(name);
    if (name === 'Socket' || name === 'TCP') return 'sockets (client and upstream: net.Socket, TCP handle)';
    return undefined;
  };
  const classify = (start) => {
    const path = [];
    let part;
    let firstUnknown;
    for (let node = start, depth = 0; node !== -1 && depth < 24; node = retainer[node], depth += 1) {
      const known = partOf.get(node);
      if (known !== undefined) {
        part = known;
        break;
      }
      path.push(node);
      part = ownerPart(node);
      if (part !== undefined) break;
      const name = nameOf(node);
      if (firstUnknown === undefined && typeOf(node) === 'object' && !PASS_THROUGH.test(name)) firstUnknown = name;
    }
    part ??= firstUnknown === undefined ? 'unattributed' : `other (${firstUnknown})`;
    for (const node of path) partOf.set(node, part);
    return part;
  };

  const byConstructor = new Map();
  const byPart = new Map();
  const byPartAndConstructor = new Map();
  const add = (map, key, size) => {
    const entry = map.get(key);
    if (entry) {
      entry.size += size;
      entry.count += 1;
    } else map.set(key, { size, count: 1 });
  };
  let total = 0;
  for (let node = 0; node < count; node += 1) {
    const size = nodes[node * nodeWidth + sizeAt];
    total += size;
    const type = typeOf(node);
    let name = nameOf(node);
    // Strings, numbers and code are grouped by type, not by their text.
    if (/string|number|code|hidden/.test(type)) name = '';
    const key = `${type}:${name.length > 80 ? `${name.slice(0, 77)}...` : name}`;
    const part = classify(node);
    add(byConstructor, key, size);
    add(byPart, part, size);
    add(byPartAndConstructor, `${part} | ${key}`, size);
  }
  return { total, byConstructor, byPart, byPartAndConstructor };
}
