/**
 * Multi-language keyword search in one pass over the text: an Aho-Corasick automaton over every keyword of every
 * dimension, built once at module load. A regular expression with hundreds of alternatives tries each of them at
 * every position; the automaton reads each character once, so a 2 KB prompt costs the same whatever the number of
 * keywords.
 *
 * Keyword syntax: `prove` matches the whole word only; `analy*` also matches words that start with it (analyse,
 * analysis); `*datenbank` also matches words that end with it (Kundendatenbank). Both sides of a match are folded
 * the same way: lower case, accents removed from Latin letters (é → e, so `qué es` matches `que es`), ё → е,
 * full-width forms → ASCII, hyphens and runs of white space → one space (`step-by-step` matches `step by step`),
 * curly apostrophes → '. Word boundaries apply only to letters of spaced scripts (Latin, Greek, Cyrillic): Chinese
 * and Japanese have no spaces, so `证明` matches anywhere, and `api` matches in `调用API接口`.
 */

export interface KeywordEntry<Tag> {
  /** The keyword as written in the lists, with its `*` markers. */
  readonly keyword: string;
  readonly tag: Tag;
}

export interface KeywordMatch<Tag> {
  /** The keyword as written, without `*` markers: what the explain endpoint shows. */
  readonly keyword: string;
  readonly tag: Tag;
}

export interface KeywordMatcher<Tag> {
  /**
   * Every entry found in `lowerCaseText` (already `toLowerCase()`d), each once, in the order first seen. Entries
   * with the same folded keyword and tag count once, so listing a word in two spellings never counts it twice.
   */
  find(lowerCaseText: string): KeywordMatch<Tag>[];
}

/** Folded keywords longer than this are rejected at build time: the scan keeps this much history (a power of 2). */
const HISTORY = 64;
const SPACE = 32;
const FOLD = buildFoldTable();
/** Captured for the scan loop, for the reason given in estimate-tokens.ts. */
const charCodeAt = String.prototype.charCodeAt;

/** Builds the automaton. Throws on an empty keyword or one longer than 63 folded characters. */
export function compileKeywords<Tag>(entries: readonly KeywordEntry<Tag>[]): KeywordMatcher<Tag> {
  const patterns = new Map<string, Pattern>();
  const results: KeywordMatch<Tag>[] = [];
  const resultIndex = new Map<string, number>();
  for (const entry of entries) {
    const parsed = parseKeyword(entry.keyword);
    const key = `${parsed.folded}\u0000${String(entry.tag)}`;
    let result = resultIndex.get(key);
    if (result === undefined) {
      result = results.length;
      resultIndex.set(key, result);
      results.push({ keyword: parsed.display, tag: entry.tag });
    }
    // Entries with the same folded text and boundary rule share one automaton pattern, which reports them all.
    const patternKey = `${parsed.folded}\u0000${parsed.startBoundary}\u0000${parsed.endBoundary}`;
    const pattern = patterns.get(patternKey) ?? { ...parsed, results: [] };
    if (!pattern.results.includes(result)) pattern.results.push(result);
    patterns.set(patternKey, pattern);
  }
  const automaton = buildAutomaton([...patterns.values()]);
  return { find: (text) => scan(automaton, text).map((index) => results[index] as KeywordMatch<Tag>) };
}

/** The folded form of one character code, as the scan sees it. Exported for tests. */
export function foldCode(code: number): number {
  if (code < FOLD.length) return FOLD[code] as number;
  if (code >= 0xff01 && code <= 0xff5e) return foldCode(code - 0xfee0);
  if (code === 0x3000 || (code >= 0x2000 && code <= 0x200b) || code === 0x2028 || code === 0x2029) return SPACE;
  if (code >= 0x2010 && code <= 0x2015) return SPACE;
  if (code === 0x2018 || code === 0x2019) return 0x27;
  return code;
}

/** A letter or digit of a spaced script: the characters a word boundary separates. */
export function isWordCode(code: number): boolean {
  if (code < 0x80) {
    const lower = code | 0x20;
    return (code >= 0x30 && code <= 0x39) || (lower >= 0x61 && lower <= 0x7a) || code === 0x5f;
  }
  if (code >= 0xc0 && code <= 0x24f) return code !== 0xd7 && code !== 0xf7;
  return code >= 0x370 && code <= 0x52f;
}

interface ParsedKeyword {
  readonly folded: readonly number[];
  readonly display: string;
  readonly startBoundary: boolean;
  readonly endBoundary: boolean;
}

interface Pattern extends ParsedKeyword {
  readonly results: number[];
}

/**
 * The automaton in flat typed arrays, states numbered in breadth-first order. A state's children sit side by side
 * in `childCodes`/`childTargets`, sorted by code: most states have one or two, so a short scan beats hashing.
 */
interface Automaton {
  /** Transitions out of the root for every UTF-16 code: most characters of a text start nothing. */
  readonly rootNext: Int32Array;
  readonly childStart: Int32Array;
  readonly childCount: Int32Array;
  readonly childCodes: Uint16Array;
  readonly childTargets: Int32Array;
  /** For states with many children: offset of their 128 ASCII transitions in `asciiNext`, or −1. */
  readonly asciiOffset: Int32Array;
  readonly asciiNext: Int32Array;
  readonly fail: Int32Array;
  /** Patterns ending at each state, including those reached through failure links: `outputs[outputStart[s]…]`. */
  readonly outputStart: Int32Array;
  readonly outputCount: Int32Array;
  readonly outputs: readonly Pattern[];
  readonly resultCount: number;
}

/**
 * States with at least this many children also keep their ASCII transitions in a direct table, so that reading
 * English text does not scan their children at every letter. About a hundred states (mostly the first letters of
 * Latin keywords) have that many; their tables take about 50 KB.
 */
const TABLE_FROM = 4;
const ASCII = 128;

function parseKeyword(keyword: string): ParsedKeyword {
  const prefixOnly = keyword.endsWith('*');
  const suffixOnly = keyword.startsWith('*');
  const display = keyword.slice(suffixOnly ? 1 : 0, prefixOnly ? -1 : undefined).trim();
  const folded: number[] = [];
  for (const character of display.toLowerCase()) {
    for (let index = 0; index < character.length; index += 1) {
      const code = foldCode(character.charCodeAt(index));
      if (code === SPACE && (folded.length === 0 || folded[folded.length - 1] === SPACE)) continue;
      folded.push(code);
    }
  }
  while (folded[folded.length - 1] === SPACE) folded.pop();
  if (folded.length === 0 || folded.length >= HISTORY) {
    throw new RangeError(`keyword ${JSON.stringify(keyword)} must fold to 1–${HISTORY - 1} characters`);
  }
  return {
    folded,
    display,
    startBoundary: !suffixOnly && isWordCode(folded[0] as number),
    endBoundary: !prefixOnly && isWordCode(folded[folded.length - 1] as number),
  };
}

function buildAutomaton(patterns: readonly Pattern[]): Automaton {
  // A plain trie first, then failure links in breadth-first order, then the flat arrays.
  const trie: Map<number, number>[] = [new Map()];
  const ownOutput: Pattern[][] = [[]];
  for (const pattern of patterns) {
    let state = 0;
    for (const code of pattern.folded) {
      const transitions = trie[state] as Map<number, number>;
      let target = transitions.get(code);
      if (target === undefined) {
        target = trie.length;
        trie.push(new Map());
        ownOutput.push([]);
        transitions.set(code, target);
      }
      state = target;
    }
    (ownOutput[state] as Pattern[]).push(pattern);
  }
  const children = trie.map((transitions) => [...transitions.entries()].sort(([first], [second]) => first - second));
  const order = [0];
  for (let head = 0; head < order.length; head += 1) {
    for (const [, target] of children[order[head] as number] ?? []) order.push(target);
  }
  const renumber = new Int32Array(trie.length);
  order.forEach((state, index) => {
    renumber[state] = index;
  });
  const count = trie.length;
  const childStart = new Int32Array(count);
  const childCount = new Int32Array(count);
  const childCodes = new Uint16Array(count);
  const childTargets = new Int32Array(count);
  let cursor = 0;
  for (const [index, state] of order.entries()) {
    const sorted = children[state] ?? [];
    childStart[index] = cursor;
    childCount[index] = sorted.length;
    for (const [code, target] of sorted) {
      childCodes[cursor] = code;
      childTargets[cursor] = renumber[target] as number;
      cursor += 1;
    }
  }
  const rootNext = new Int32Array(0x10000);
  for (let child = 0; child < (childCount[0] as number); child += 1) {
    rootNext[childCodes[child] as number] = childTargets[child] as number;
  }
  const asciiOffset = new Int32Array(count).fill(-1);
  const wide: number[] = [];
  for (let state = 1; state < count; state += 1) if ((childCount[state] as number) >= TABLE_FROM) wide.push(state);
  const asciiNext = new Int32Array(wide.length * ASCII);
  wide.forEach((state, index) => {
    asciiOffset[state] = index * ASCII;
    const start = childStart[state] as number;
    for (let child = start; child < start + (childCount[state] as number); child += 1) {
      const code = childCodes[child] as number;
      if (code < ASCII) asciiNext[index * ASCII + code] = childTargets[child] as number;
    }
  });
  const partial = { rootNext, childStart, childCount, childCodes, childTargets };

  const fail = new Int32Array(count);
  const merged: Pattern[][] = order.map((state) => ownOutput[state] as Pattern[]);
  // States are numbered breadth-first, so a state's failure target is always numbered lower and already complete.
  for (let state = 0; state < count; state += 1) {
    const start = childStart[state] as number;
    for (let child = start; child < start + (childCount[state] as number); child += 1) {
      const code = childCodes[child] as number;
      const target = childTargets[child] as number;
      let fallback = state === 0 ? -1 : (fail[state] as number);
      let next = 0;
      while (fallback >= 0) {
        next = step(partial, fallback, code);
        if (next !== 0 || fallback === 0) break;
        fallback = fail[fallback] as number;
      }
      fail[target] = state === 0 ? 0 : next;
      const inherited = merged[fail[target] as number] as Pattern[];
      if (inherited.length > 0) merged[target] = [...(merged[target] as Pattern[]), ...inherited];
    }
  }
  const outputStart = new Int32Array(count);
  const outputCount = new Int32Array(count);
  const outputs: Pattern[] = [];
  merged.forEach((list, state) => {
    outputStart[state] = outputs.length;
    outputCount[state] = list.length;
    outputs.push(...list);
  });
  const resultCount = 1 + patterns.reduce((most, pattern) => Math.max(most, ...pattern.results), -1);
  return { ...partial, asciiOffset, asciiNext, fail, outputStart, outputCount, outputs, resultCount };
}

type Trie = Pick<Automaton, 'rootNext' | 'childStart' | 'childCount' | 'childCodes' | 'childTargets'>;

/** The child of `state` for `code`, or 0 when there is none; used while building, where speed does not matter. */
function step(automaton: Trie, state: number, code: number): number {
  if (state === 0) return automaton.rootNext[code] as number;
  const start = automaton.childStart[state] as number;
  for (let child = start; child < start + (automaton.childCount[state] as number); child += 1) {
    if (automaton.childCodes[child] === code) return automaton.childTargets[child] as number;
  }
  return 0;
}

/** Indices of the results found, in the order first seen. */
function scan(automaton: Automaton, text: string): number[] {
  const { rootNext, childStart, childCount, childCodes, childTargets, asciiOffset, asciiNext, fail } = automaton;
  const { outputStart, outputCount, outputs } = automaton;
  const seen = new Uint8Array(automaton.resultCount);
  const found: number[] = [];
  const history = new Int32Array(HISTORY);
  // Matches that need a word boundary after them wait for the next character.
  const pending: Pattern[] = [];
  let position = -1;
  let previous = SPACE;
  let state = 0;
  for (let index = 0; index < text.length; index += 1) {
    const raw = charCodeAt.call(text, index);
    const code = raw < FOLD.length ? (FOLD[raw] as number) : foldCode(raw);
    if (code === SPACE && previous === SPACE) continue;
    previous = code;
    if (pending.length > 0) {
      if (!isWordCode(code)) for (const pattern of pending) accept(pattern, seen, found);
      pending.length = 0;
    }
    position += 1;
    history[position & (HISTORY - 1)] = code;
    // step(), with the direct tables: this loop runs once per character and dominates the classifier's time.
    for (;;) {
      if (state === 0) {
        state = rootNext[code] as number;
        break;
      }
      const offset = asciiOffset[state] as number;
      let target = 0;
      if (offset >= 0 && code < ASCII) {
        target = asciiNext[offset + code] as number;
      } else {
        let child = childStart[state] as number;
        const end = child + (childCount[state] as number);
        while (child < end && childCodes[child] !== code) child += 1;
        if (child < end) target = childTargets[child] as number;
      }
      if (target !== 0) {
        state = target;
        break;
      }
      state = fail[state] as number;
    }
    const ended = outputCount[state] as number;
    if (ended === 0) continue;
    const first = outputStart[state] as number;
    for (let output = first; output < first + ended; output += 1) {
      const pattern = outputs[output] as Pattern;
      const before = position - pattern.folded.length;
      if (pattern.startBoundary && before >= 0 && isWordCode(history[before & (HISTORY - 1)] as number)) continue;
      if (pattern.endBoundary) pending.push(pattern);
      else accept(pattern, seen, found);
    }
  }
  for (const pattern of pending) accept(pattern, seen, found);
  return found;
}

function accept(pattern: Pattern, seen: Uint8Array, found: number[]): void {
  for (const result of pattern.results) {
    if (seen[result] === 0) {
      seen[result] = 1;
      found.push(result);
    }
  }
}

/**
 * Folding for codes below U+0500: ASCII upper case → lower case; white space, hyphen and soft hyphen → space;
 * Latin letters with diacritics → their base letter (from Unicode's own decomposition); ё/Ё → е.
 */
function buildFoldTable(): Uint16Array {
  const table = new Uint16Array(0x500);
  for (let code = 0; code < table.length; code += 1) table[code] = code;
  for (let code = 0x41; code <= 0x5a; code += 1) table[code] = code + 0x20;
  for (const code of [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x2d, 0x85, 0xa0, 0xad]) table[code] = SPACE;
  for (let code = 0xc0; code <= 0x24f; code += 1) {
    const base = String.fromCharCode(code).normalize('NFD').toLowerCase().charCodeAt(0);
    if (base < 0x80) table[code] = base;
  }
  table[0x401] = 0x435;
  table[0x451] = 0x435;
  table[0x2bc] = 0x27;
  return table;
}
