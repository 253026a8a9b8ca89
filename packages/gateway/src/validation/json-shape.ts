import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COMMA, OPEN_BRACE, OPEN_BRACKET, QUOTE } from './json-bytes.js';

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


/**
 * Checks a JSON text's shape as its bytes arrive, before anything parses them, and reports the first limit it goes
 * past: nesting depth, members per object, elements per array, values in all (every array
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
 * that the text is valid JSON (JSON.parse does that next). Fed chunk by chunk while the body is read, it finds a
 * limit at the chunk that crosses it: a refused body is neither read further nor held in memory.
 */
export class JsonShapeScanner {
  private readonly limits: JsonShapeLimits;
  /** Commas seen so far in each open container, and whether it is an object; index 0 is the top level. */
  private readonly commas: Int32Array;
  private readonly isObject: Uint8Array;
  private readonly keyNames = new Set<number>();
  private depth = 0;
  private values = 0;
  private keys = 0;
  /** The next string is a key: right after an object's `{` or a `,` between its members. */
  private expectKey = false;
  private inString = false;
  private stringIsKey = false;
  /** The string's previous byte was a backslash that escapes the next one (which may start the next chunk). */
  private escapeNext = false;
  private keyHash = FNV_OFFSET;
  private keyLength = 0;
  private exceeded: JsonShapeLimit | undefined;

  constructor(limits: JsonShapeLimits) {
    this.limits = limits;
    this.commas = new Int32Array(limits.maxDepth + 1);
    this.isObject = new Uint8Array(limits.maxDepth + 1);
  }

  /** Scans the next bytes of the text; returns the first limit it has gone past so far, or undefined. */
  write(bytes: Buffer): JsonShapeLimit | undefined {
    if (this.exceeded) return this.exceeded;
    const { maxDepth, maxObjectKeys, maxArrayElements, maxValues } = this.limits;
    const { commas, isObject } = this;
    const length = bytes.length;
    let index = 0;
    while (index < length) {
      if (this.inString) {
        index = this.scanString(bytes, index);
        if (this.exceeded) return this.exceeded;
        continue;
      }
      const byte = bytes[index]!;
      index += 1;
      switch (byte) {
        case QUOTE:
          this.inString = true;
          this.stringIsKey = this.expectKey;
          this.expectKey = false;
          this.keyHash = FNV_OFFSET;
          this.keyLength = 0;
          break;
        case OPEN_BRACE:
        case OPEN_BRACKET:
          if (this.depth === maxDepth) return this.exceed('maxDepth');
          this.depth += 1;
          commas[this.depth] = 0;
          isObject[this.depth] = byte === OPEN_BRACE ? 1 : 0;
          this.expectKey = byte === OPEN_BRACE;
          this.values += 1;
          if (this.values > maxValues) return this.exceed('maxValues');
          break;
        case CLOSE_BRACE:
        case CLOSE_BRACKET:
          if (this.depth > 0) this.depth -= 1;
          this.expectKey = false;
          break;
        case COMMA: {
          if (this.depth === 0) break;
          const members = ++commas[this.depth]! + 1;
          if (isObject[this.depth] === 1) {
            if (members > maxObjectKeys) return this.exceed('maxObjectKeys');
            this.expectKey = true;
          } else if (members > maxArrayElements) {
            return this.exceed('maxArrayElements');
          }
          this.values += 1;
          if (this.values > maxValues) return this.exceed('maxValues');
          break;
        }
        default:
          break;
      }
    }
    return undefined;
  }

  /**
   * Goes through string content from `from`: to just past its closing quote, or to the end of the chunk. Escapes
   * are followed across chunks; a key's bytes go into its name's hash.
   */
  private scanString(bytes: Buffer, from: number): number {
    let start = from;
    if (this.escapeNext) {
      this.escapeNext = false;
      start += 1;
    }
    let quote = bytes.indexOf(QUOTE, start);
    while (quote >= 0 && endsWithOddBackslashes(bytes, start, quote)) quote = bytes.indexOf(QUOTE, quote + 1);
    const end = quote >= 0 ? quote : bytes.length;
    if (this.stringIsKey) {
      this.keyHash = fnv(this.keyHash, bytes, from, end);
      this.keyLength += end - from;
    }
    if (quote < 0) {
      this.escapeNext = endsWithOddBackslashes(bytes, start, bytes.length);
      return bytes.length;
    }
    this.inString = false;
    if (this.stringIsKey) {
      this.keys += 1;
      if (this.keys > this.limits.maxKeys) this.exceed('maxKeys');
      this.keyNames.add(Math.imul(this.keyHash ^ this.keyLength, FNV_PRIME));
      if (this.keyNames.size > this.limits.maxDistinctKeys) this.exceed('maxDistinctKeys');
    }
    return quote + 1;
  }

  private exceed(limit: JsonShapeLimit): JsonShapeLimit {
    this.exceeded ??= limit;
    return this.exceeded;
  }
}

/** The first limit a whole JSON text goes past, or undefined. */
export function exceededJsonShapeLimit(bytes: Buffer, limits: JsonShapeLimits): JsonShapeLimit | undefined {
  return new JsonShapeScanner(limits).write(bytes);
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a of bytes [from, to), continued from `hash`. */
function fnv(hash: number, bytes: Buffer, from: number, to: number): number {
  let result = hash;
  for (let index = from; index < to; index += 1) result = Math.imul(result ^ bytes[index]!, FNV_PRIME);
  return result;
}

/** Whether the bytes just before `end` (not before `from`) are an odd run of backslashes: the byte at `end` is escaped. */
function endsWithOddBackslashes(bytes: Buffer, from: number, end: number): boolean {
  let backslashes = 0;
  while (end - backslashes - 1 >= from && bytes[end - backslashes - 1] === BACKSLASH) backslashes += 1;
  return backslashes % 2 === 1;
}
