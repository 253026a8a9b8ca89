/** How large a JSON body's shape may be: `server.bodyLimits` (defaults in the config schema). */
export interface JsonShapeLimits {
  readonly maxDepth: number;
  readonly maxObjectKeys: number;
  readonly maxArrayElements: number;
  readonly maxValues: number;
  readonly maxKeys: number;
  readonly maxDistinctKeys: number;
}

export type JsonShapeLimit = keyof JsonShapeLimits;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * The first limit a JSON text goes past, or undefined when it stays within all of them. One pass over the bytes,
 * before anything parses them: nesting depth, members per object, elements per array, values in all (every array
 * element and object member at any level; an empty object or array counts as one), keys in all, and distinct key
 * names.
 *
 * Why these: JSON.parse's cost per value is small for numbers and strings but grows with an object's size, and
 * most with key names it has not seen (each new name builds V8 hidden classes and interns a string): 50,000 fresh
 * names cost 60 to 150 ms of event loop on a busy 2-core box, the same names repeated a few ms; and a key in an
 * object of more than about 128 keys (a dictionary-mode object) costs several times one in a small object.
 *
 * Members are counted by their separating commas outside strings; strings are skipped with a native search for
 * the closing quote; key names are told apart by a 32-bit hash (a collision only undercounts). It does not check
 * that the text is valid JSON (JSON.parse does that next): whatever the bytes, it stops at the first limit, so a
 * body that is refused costs no more than the bytes up to that point.
 */
export function exceededJsonShapeLimit(bytes: Buffer, limits: JsonShapeLimits): JsonShapeLimit | undefined {
  const { maxDepth, maxObjectKeys, maxArrayElements, maxValues, maxKeys, maxDistinctKeys } = limits;
  // Commas seen so far in each open container, and whether it is an object; index 0 is the top level.
  const commas = new Int32Array(maxDepth + 1);
  const isObject = new Uint8Array(maxDepth + 1);
  const keyNames = new Set<number>();
  const length = bytes.length;
  let depth = 0;
  let values = 0;
  let keys = 0;
  // The next string is a key: right after an object's `{` or a `,` between its members.
  let expectKey = false;
  let index = 0;
  while (index < length) {
    const byte = bytes[index]!;
    index += 1;
    switch (byte) {
      case QUOTE: {
        const end = closingQuote(bytes, index);
        if (end < 0) return undefined;
        if (expectKey) {
          keys += 1;
          if (keys > maxKeys) return 'maxKeys';
          keyNames.add(hashOf(bytes, index, end));
          if (keyNames.size > maxDistinctKeys) return 'maxDistinctKeys';
          expectKey = false;
        }
        index = end + 1;
        break;
      }
      case OPEN_BRACE:
      case OPEN_BRACKET:
        if (depth === maxDepth) return 'maxDepth';
        depth += 1;
        commas[depth] = 0;
        isObject[depth] = byte === OPEN_BRACE ? 1 : 0;
        expectKey = byte === OPEN_BRACE;
        values += 1;
        if (values > maxValues) return 'maxValues';
        break;
      case CLOSE_BRACE:
      case CLOSE_BRACKET:
        if (depth > 0) depth -= 1;
        expectKey = false;
        break;
      case COMMA: {
        if (depth === 0) break;
        const members = ++commas[depth]! + 1;
        if (isObject[depth] === 1) {
          if (members > maxObjectKeys) return 'maxObjectKeys';
          expectKey = true;
        } else if (members > maxArrayElements) {
          return 'maxArrayElements';
        }
        values += 1;
        if (values > maxValues) return 'maxValues';
        break;
      }
      default:
        break;
    }
  }
  return undefined;
}

/** FNV-1a over bytes [from, to), mixed with the length. */
function hashOf(bytes: Buffer, from: number, to: number): number {
  let hash = 0x811c9dc5 ^ (to - from);
  for (let index = from; index < to; index += 1) hash = Math.imul(hash ^ bytes[index]!, 0x01000193);
  return hash;
}

/** The index of the quote that closes a string whose content starts at `from` (one not escaped by a backslash), or -1. */
function closingQuote(bytes: Buffer, from: number): number {
  let quote = bytes.indexOf(QUOTE, from);
  while (quote >= 0) {
    let backslashes = 0;
    while (quote - backslashes - 1 >= from && bytes[quote - backslashes - 1] === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return quote;
    quote = bytes.indexOf(QUOTE, quote + 1);
  }
  return -1;
}
