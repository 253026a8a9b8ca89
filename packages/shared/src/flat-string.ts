/** Written so that the conversion in `flattened` has a use and is never optimised away. */
let conversions = 0;

/**
 * `text`, made one flat copy of its characters in place. V8 keeps a string built by joining others (`+`, a template,
 * Node's `randomUUID` and its response head) as a tree of the pieces, 32 bytes a join, until something reads it whole.
 * A string kept for a stream's whole life is worth flattening: a UUID is ~510 bytes of heap as a tree and ~100 flat,
 * a response head of twenty-odd headers ~2 KB as a tree (docs/benchmarks.md, memory per stream). Converting it to a
 * number reads it whole, which V8 does by flattening it first, in place: the tree's nodes become garbage.
 */
export function flattened(text: string): string {
  conversions ^= Number(text) | 0;
  return text;
}
